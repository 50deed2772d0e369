//! The listening socket, and the answer a client gets when the server is at its connection
//! cap.
//!
//! **Backlog.** The listener asks for a backlog of [`LISTEN_BACKLOG`] (4,096) connections
//! that the kernel has completed but the process has not accepted yet; tokio's own default
//! is 1,024. When that queue is full the kernel drops further SYNs and the client's kernel
//! retries them after 1, 3 and 7 s, which a burst of 2,200 clients at once (the benchmark's
//! overload row) met. Linux caps the number at `net.core.somaxconn`
//! (`/proc/sys/net/core/somaxconn`: 4,096 by default since kernel 5.4, 128 before); a host
//! with a lower value gets that lower backlog, silently.
//!
//! **At the cap** (`HTTP_MAX_CONNECTIONS`) the server keeps accepting, and answers each new
//! connection at once with `503` and `Retry-After: 1` ([`refuse`]) and closes it, instead
//! of leaving it unaccepted in the backlog, where the client would see nothing at all until
//! a connection ends (or, with the backlog full too, a dropped SYN). At most
//! [`MAX_REFUSING`] such answers are in progress at once; past that the accept loop waits
//! for one to finish, and new clients wait in the backlog as before.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::metrics::catalog::REQUESTS_SHED;

/// Connections the kernel may queue for the listener before the process accepts them
/// (capped by `net.core.somaxconn`).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Connections refused with a `503` at the same time, at most.
pub const MAX_REFUSING: usize = 256;

/// How long a refusal may take: writing the answer, then reading what the client sent
/// until it closes (closing with unread bytes would reset the connection, and the client
/// could lose the answer).
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The whole answer to a connection over the cap: the JSON error shape, `Retry-After`,
/// and `Connection: close`.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
x-content-type-options: nosniff\r\n\
connection: close\r\n\
content-length: 55\r\n\
\r\n\
{\"error\":\"The service is busy; try again in a moment\"}\n";

/// Binds a listener on `addr` with a backlog of [`LISTEN_BACKLOG`] (`SO_REUSEADDR`, as
/// tokio's and std's `bind` set it, so a restarted process can listen at once).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Answers a connection over the cap `503` and closes it
/// (`http_requests_shed_total{reason="connections"}`).
pub async fn refuse(mut stream: TcpStream) {
    REQUESTS_SHED.increment(["connections"]);
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(REFUSAL).await?;
        stream.shutdown().await?;
        // Read (and drop) the request until the client closes its side.
        let mut buf = [0u8; 1024];
        while stream.read(&mut buf).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::REFUSAL;

    #[test]
    fn the_refusal_declares_its_body_length() {
        let text = std::str::from_utf8(REFUSAL).unwrap_or_default();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{text}"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(body).is_ok(),
            "{body}"
        );
    }
}
