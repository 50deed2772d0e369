//! The HTTP server every process runs: HTTP/1.1 (what nginx and the probes speak), with the limits a
//! server on an open port needs, which `axum::serve` does not set.
//!
//! - **Header read timeout** (`HTTP_HEADER_READ_TIMEOUT_MS`, default 10 s): a client must
//!   send a request's whole head within it, and a kept-alive connection that sends nothing
//!   is closed after it too. A slowloris client (a header byte every few seconds) or an idle
//!   one holds its connection that long at most.
//! - **A cap on open connections** (`HTTP_MAX_CONNECTIONS`, default 4096): past the cap a
//!   new connection is answered `503` with `Retry-After` at once and closed
//!   ([`super::listener`]), instead of exhausting the process's file descriptors.
//! - **Graceful stop**: on shutdown the listener closes, kept-alive connections are told to
//!   close after their current request, and in-flight requests get `grace` to finish.
//! - **Threads of its own** (`HTTP_THREADS`): with `n > 0` the connections are served by `n`
//!   threads, each a single-threaded tokio runtime with its own accept loop on the same
//!   listening socket; a connection, its requests and the tasks they spawn stay on the thread
//!   that accepted it. With 0 they are served by the caller's runtime. Why: one multi-threaded
//!   runtime serving small requests spends much of its time waking its threads and moving
//!   tasks between them (docs/performance.md, "Lists").
//!
//! Each request carries the peer's address (`ConnectInfo<SocketAddr>`);
//! [`super::client_ip`] tells the client's behind nginx.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::listener;
use crate::metrics::catalog::{HTTP_CONNECTIONS_OPEN, HTTP_CONNECTIONS_TIMED_OUT, NO_LABELS};
use crate::settings::ServerLimits;

/// The cores this process may run on: an API's default `HTTP_THREADS`.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// What every accept loop of one server shares.
#[derive(Clone)]
struct Shared {
    router: Router,
    stop: CancellationToken,
    grace: Duration,
    limits: ServerLimits,
    /// One per open connection (`HTTP_MAX_CONNECTIONS`).
    permits: Arc<Semaphore>,
    /// One per connection being refused ([`listener::MAX_REFUSING`]).
    refusing: Arc<Semaphore>,
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (at most `grace`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: ServerLimits,
) -> std::io::Result<()> {
    let shared = Shared {
        router,
        stop: CancellationToken::new(),
        grace,
        limits,
        permits: Arc::new(Semaphore::new(limits.max_connections)),
        refusing: Arc::new(Semaphore::new(listener::MAX_REFUSING)),
    };
    let stop = shared.stop.clone();
    let _stop_on_return = shared.stop.clone().drop_guard();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown => stop.cancel(),
            () = stop.cancelled() => {}
        }
    });
    let threads = limits.threads.unwrap_or(0);
    if threads == 0 {
        let _ = accept_loop(listener, shared).await;
        return Ok(());
    }
    let socket = listener.into_std()?;
    let mut done = Vec::with_capacity(threads);
    for i in 0..threads {
        let socket = socket.try_clone()?;
        let shared = shared.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<std::io::Result<()>>();
        std::thread::Builder::new()
            .name(format!("http-{i}"))
            .spawn(move || serve_on_own_runtime(socket, shared, tx))?;
        done.push(rx);
    }
    drop(socket);
    let mut result = Ok(());
    for rx in done {
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(_) => result = Err(std::io::Error::other("an HTTP thread panicked")),
        }
    }
    result
}

/// One thread's runtime: accepts on `socket` until the stop, then waits (within the grace
/// period) for every task its requests spawned, so that a request detached from a client
/// that hung up ([`super::middleware`]) ends its database work before the server returns;
/// then says so on `done`.
///
/// The runtime itself stays until the process ends: database connections that its requests
/// opened are registered with its I/O driver, and the pool keeps them for the process's
/// other work (the relay, the last outbox drain at the stop), which would fail on them if
/// the runtime went. Parked in `block_on`, it only drives their I/O.
fn serve_on_own_runtime(
    socket: std::net::TcpListener,
    shared: Shared,
    done: tokio::sync::oneshot::Sender<std::io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = done.send(Err(e));
            return;
        }
    };
    runtime.block_on(async {
        let listener = match TcpListener::from_std(socket) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = done.send(Err(e));
                return;
            }
        };
        let grace = shared.grace;
        let deadline = accept_loop(listener, shared).await + grace;
        let metrics = tokio::runtime::Handle::current().metrics();
        while metrics.num_alive_tasks() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = done.send(Ok(()));
        std::future::pending::<()>().await;
    });
}

/// Accepts connections until the stop, serves each in a task, then stops gracefully.
/// Returns when the stop came.
async fn accept_loop(listener: TcpListener, shared: Shared) -> tokio::time::Instant {
    let graceful = GracefulShutdown::new();
    // HTTP/1 only: detecting HTTP/2 (hyper-util's auto builder) waits for the client's
    // first bytes before any timeout runs, so a client that connects and says nothing would
    // never be closed.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            () = shared.stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was accepted:
                // the listener itself is fine.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
            // At the cap: a quick 503, at most MAX_REFUSING at once (past that, wait here
            // and let new clients wait in the backlog).
            let refusal = tokio::select! {
                () = shared.stop.cancelled() => break,
                refusal = shared.refusing.clone().acquire_owned() => refusal,
            };
            if let Ok(refusal) = refusal {
                tokio::spawn(async move {
                    listener::refuse(stream).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = shared
            .router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            HTTP_CONNECTIONS_OPEN.add(NO_LABELS, 1.0);
            if let Err(e) = connection.await
                && e.is_timeout()
            {
                HTTP_CONNECTIONS_TIMED_OUT.increment(NO_LABELS);
            }
            HTTP_CONNECTIONS_OPEN.add(NO_LABELS, -1.0);
            drop(permit);
        });
    }
    let stopped = tokio::time::Instant::now();
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(shared.grace) => {
            tracing::warn!(grace_ms = shared.grace.as_millis() as u64,
                "requests still running after the grace period; stopping");
        }
    }
    stopped
}
