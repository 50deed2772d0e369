//! The HTTP server every process runs: HTTP/1.1 (what nginx and the probes speak), with the limits a
//! server on an open port needs, which `axum::serve` does not set.
//!
//! - **Header read timeout** (`HTTP_HEADER_READ_TIMEOUT_MS`, default 10 s): a client must
//!   send a request's whole head within it, and a kept-alive connection that sends nothing
//!   is closed after it too. A slowloris client (a header byte every few seconds) or an idle
//!   one holds its connection that long at most.
//! - **A cap on open connections** (`HTTP_MAX_CONNECTIONS`, default 4096): at the cap the
//!   server stops accepting, so further clients wait in the kernel's backlog until a
//!   connection ends, instead of exhausting the process's file descriptors.
//! - **Graceful stop**: on shutdown the listener closes, kept-alive connections are told to
//!   close after their current request, and in-flight requests get `grace` to finish.
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
use tower::ServiceExt;

use crate::metrics::catalog::{HTTP_CONNECTIONS_OPEN, HTTP_CONNECTIONS_TIMED_OUT, NO_LABELS};
use crate::settings::ServerLimits;

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (at most `grace`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: ServerLimits,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // HTTP/1 only: detecting HTTP/2 (hyper-util's auto builder) waits for the client's
    // first bytes before any timeout runs, so a client that connects and says nothing would
    // never be closed.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the cap, wait for a connection to end before accepting another.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
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
        let _ = stream.set_nodelay(true);
        let service = router
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
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_ms = grace.as_millis() as u64,
                "requests still running after the grace period; stopping");
        }
    }
    Ok(())
}
