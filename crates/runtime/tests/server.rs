//! The server's connection limits, in process, over real sockets: idle and slow clients are
//! closed after the header read timeout, the connection cap makes further clients wait
//! rather than fail, and a well-behaved client is served throughout.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use shop_runtime::http::server::serve;
use shop_runtime::settings::ServerLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_millis(500);

async fn start(max_connections: usize) -> (std::net::SocketAddr, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let router = Router::new().route(
        "/",
        get(|req: axum::extract::Request| async move {
            shop_runtime::http::client_ip::peer(&req)
                .unwrap()
                .ip()
                .to_string()
        }),
    );
    let token = stop.clone();
    tokio::spawn(serve(
        listener,
        router,
        async move { token.cancelled().await },
        Duration::from_secs(1),
        ServerLimits {
            header_read_timeout: TIMEOUT,
            max_connections,
        },
    ));
    (addr, stop)
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
    let (addr, stop) = start(100).await;

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
    stop.cancel();
}

#[tokio::test]
async fn at_the_connection_cap_clients_wait_instead_of_failing() {
    let (addr, stop) = start(2).await;
    // Two connections that say nothing fill the cap until the timeout closes them. Plain
    // non-blocking sockets: a read asks the kernel, now, whether the server closed them.
    let a = std::net::TcpStream::connect(addr).unwrap();
    let b = std::net::TcpStream::connect(addr).unwrap();
    for s in [&a, &b] {
        s.set_nonblocking(true).unwrap();
    }
    // Both accepted by the server (none left in the accept queue) before the third comes.
    testkit::eventually(Duration::from_secs(5), "both accepted", || async {
        testkit::seen(testkit::sockets::listening(addr.port()), |l| {
            l.len() == 1 && l[0].accept_queue == 0
        })
    })
    .await;
    let answer = tokio::time::timeout(Duration::from_secs(5), get_root(addr))
        .await
        .expect("served once a connection ended");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Served only once the server had closed one of the two (its close reached the kernel
    // before the third's answer did), not while both held the cap: an order of events, not
    // a time, so a slow machine cannot make it pass.
    assert!(
        closed_by_server(&a) || closed_by_server(&b),
        "not served while the cap is reached"
    );
    stop.cancel();
}

/// Whether the server closed `s` (or sent on it): a read that does not block.
fn closed_by_server(s: &std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 64];
    !matches!((&*s).read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}
