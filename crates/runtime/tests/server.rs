//! The server's connection limits, in process, over real sockets: idle and slow clients are
//! closed after the header read timeout, a client past the connection cap gets a quick `503`
//! with `Retry-After` and is served again once a connection ends, a request in flight at the
//! stop finishes, and a well-behaved client is served throughout; each on the caller's
//! runtime and on threads of the server's own (`HTTP_THREADS`).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use shop_runtime::http::server::serve;
use shop_runtime::settings::ServerLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_millis(500);

/// The server's two ways to run: on the caller's runtime, and on two threads of its own.
const THREADS: [Option<usize>; 2] = [None, Some(2)];

/// A running server: `/` answers the peer's address; `/hold` counts itself in `holding`
/// and answers once `release` is cancelled.
struct Server {
    addr: std::net::SocketAddr,
    stop: CancellationToken,
    release: CancellationToken,
    holding: Arc<AtomicUsize>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(max_connections: usize, threads: Option<usize>) -> Server {
    let listener = shop_runtime::http::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let release = CancellationToken::new();
    let holding = Arc::new(AtomicUsize::new(0));
    let (r, h) = (release.clone(), holding.clone());
    let router = Router::new()
        .route(
            "/",
            get(|req: axum::extract::Request| async move {
                shop_runtime::http::client_ip::peer(&req)
                    .unwrap()
                    .ip()
                    .to_string()
            }),
        )
        .route(
            "/hold",
            get(move || async move {
                h.fetch_add(1, Ordering::SeqCst);
                r.cancelled().await;
                "released"
            }),
        );
    let token = stop.clone();
    let served = tokio::spawn(serve(
        listener,
        router,
        async move { token.cancelled().await },
        Duration::from_secs(5),
        ServerLimits {
            header_read_timeout: TIMEOUT,
            max_connections,
            threads,
        },
    ));
    Server {
        addr,
        stop,
        release,
        holding,
        served,
    }
}

/// A connection with a `/hold` request sent on it.
async fn hold(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    s
}

/// Waits until `n` `/hold` requests are in their handler.
async fn holding(server: &Server, n: usize) {
    testkit::eventually(Duration::from_secs(10), "requests held", || async {
        testkit::seen(server.holding.load(Ordering::SeqCst), |held| *held == n)
    })
    .await;
}

/// Reads from `s` until an answer's body `body` has arrived.
async fn answered(s: &mut TcpStream, body: &str) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !String::from_utf8_lossy(&out).ends_with(body) {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A complete request on a new connection; the answer's body.
async fn get_root(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// Waits until the server closes `s` (reads return 0 or fail); how long it took.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read).await.ok()?;
    Some(start.elapsed())
}

#[tokio::test]
async fn idle_and_slow_clients_are_closed_and_others_served() {
    for threads in THREADS {
        idle_and_slow(threads).await;
    }
}

async fn idle_and_slow(threads: Option<usize>) {
    let server = start(100, threads).await;
    let addr = server.addr;

    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let drip = async {
        // A header byte every 100 ms: never a complete head.
        for _ in 0..40 {
            if slow.write_all(b"X").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    let (cut, answer) = tokio::join!(drip, get_root(addr));
    assert!(cut, "the slow client was cut off before it could finish");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with("127.0.0.1"),
        "the peer address reaches handlers: {answer}"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(5))
            .await
            .is_some(),
        "an idle connection is closed"
    );

    // A kept-alive connection that goes quiet after a request is closed too.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut kept, Duration::from_secs(5))
            .await
            .is_some(),
        "a quiet kept-alive connection is closed"
    );
    server.stop.cancel();
    server.served.await.unwrap().unwrap();
}

#[tokio::test]
async fn past_the_connection_cap_clients_get_a_quick_503_then_are_served() {
    for threads in THREADS {
        past_the_cap(threads).await;
    }
}

async fn past_the_cap(threads: Option<usize>) {
    let server = start(2, threads).await;
    // Two requests in their handlers hold the cap.
    let mut a = hold(server.addr).await;
    let mut b = hold(server.addr).await;
    holding(&server, 2).await;
    // A third client is answered at once: 503, Retry-After, the JSON error shape.
    let answer = tokio::time::timeout(Duration::from_secs(10), get_root(server.addr))
        .await
        .expect("answered while the cap is reached");
    assert!(answer.starts_with("HTTP/1.1 503"), "{threads:?}: {answer}");
    assert!(answer.contains("retry-after: 1\r\n"), "{answer}");
    assert!(answer.ends_with("{\"error\":\"The service is busy; try again in a moment\"}\n"));
    // The held requests were not disturbed; once they end and their clients leave, a new
    // client is served.
    server.release.cancel();
    assert!(
        answered(&mut a, "released")
            .await
            .starts_with("HTTP/1.1 200")
    );
    assert!(
        answered(&mut b, "released")
            .await
            .starts_with("HTTP/1.1 200")
    );
    drop((a, b));
    testkit::eventually(Duration::from_secs(10), "served below the cap", || async {
        testkit::seen(get_root(server.addr).await, |a| {
            a.starts_with("HTTP/1.1 200")
        })
    })
    .await;
    server.stop.cancel();
    server.served.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_request_in_flight_at_the_stop_finishes_and_the_listener_closes() {
    for threads in THREADS {
        let server = start(100, threads).await;
        let mut held = hold(server.addr).await;
        holding(&server, 1).await;
        server.stop.cancel();
        // The listener closes: new connections are refused.
        testkit::eventually(Duration::from_secs(10), "listener closed", || async {
            testkit::seen(TcpStream::connect(server.addr).await.is_err(), |refused| {
                *refused
            })
        })
        .await;
        assert!(
            !server.served.is_finished(),
            "{threads:?}: waits for the request"
        );
        server.release.cancel();
        let answer = answered(&mut held, "released").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{threads:?}: {answer}");
        assert!(
            answer.contains("connection: close"),
            "{threads:?}: {answer}"
        );
        tokio::time::timeout(Duration::from_secs(10), server.served)
            .await
            .expect("the server stops once the request is answered")
            .unwrap()
            .unwrap();
    }
}
