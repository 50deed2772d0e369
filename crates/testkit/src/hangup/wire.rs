//! The writes the clients send over raw TCP, and how they hang up.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A write whose client hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST /flask/api/products/{id}/like`, without a cookie: a new shopper each time.
    Like(u64),
    /// `POST /api/products`.
    Create,
    /// `PUT /api/products/{id}`.
    Update(u64),
    /// `DELETE /api/products/{id}`.
    Delete(u64),
}

impl Write {
    pub(super) fn name(self) -> &'static str {
        match self {
            Write::Like(_) => "like",
            Write::Create => "create",
            Write::Update(_) => "update",
            Write::Delete(_) => "delete",
        }
    }

    /// The request line and headers (with the full `Content-Length`, and the admin's
    /// `token` on catalogue writes), and the body.
    fn request(self, n: u64, token: Option<&str>) -> (String, String) {
        let (method, path, body) = match self {
            Write::Like(id) => (
                "POST",
                format!("/flask/api/products/{id}/like"),
                String::new(),
            ),
            Write::Create => (
                "POST",
                "/api/products".to_owned(),
                format!(r#"{{"title": "Hung up {n}", "image": "/img/hung-up-{n}.png"}}"#),
            ),
            Write::Update(id) => (
                "PUT",
                format!("/api/products/{id}"),
                format!(r#"{{"title": "Product {id} hung up {n}", "image": "/img/{id}-{n}.png"}}"#),
            ),
            Write::Delete(id) => ("DELETE", format!("/api/products/{id}"), String::new()),
        };
        let content_type = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/json\r\n"
        };
        let auth = match (self, token) {
            (Write::Like(_), _) | (_, None) => String::new(),
            (_, Some(token)) => format!("Authorization: Bearer {token}\r\n"),
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hangup\r\n{auth}{content_type}Content-Length: {}\r\n\r\n",
            body.len()
        );
        (head, body)
    }
}

/// When the client hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangUp {
    /// As soon as the request is written.
    AfterRequest,
    /// After this long, unless the answer came first.
    After(Duration),
    /// Half-way through the body: the headers announce it all. A body-less write sends a
    /// `Content-Length: 2` and one byte.
    MidBody,
}

/// Sends `write` and reads its whole answer (10 s at most), keeping the connection open;
/// the answer's status.
pub(super) async fn awaited_write(
    stream: &mut TcpStream,
    write: Write,
    n: u64,
    token: Option<&str>,
) -> Option<u16> {
    let (head, body) = write.request(n, token);
    let exchange = async {
        stream
            .write_all(format!("{head}{body}").as_bytes())
            .await
            .ok()?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    return status(&got);
                }
            }
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

/// Sends `write` and hangs up as `how` says (the caller closes the connection); the status
/// of an answer that came before the hang-up.
pub async fn hang_up(
    stream: &mut TcpStream,
    write: Write,
    n: u64,
    how: HangUp,
    token: Option<&str>,
) -> Option<u16> {
    let (head, body) = write.request(n, token);
    let sent = match how {
        HangUp::MidBody if body.is_empty() => {
            let head = head.replace("Content-Length: 0", "Content-Length: 2");
            stream.write_all(format!("{head}{{").as_bytes()).await
        }
        HangUp::MidBody => {
            let half = &body.as_bytes()[..body.len() / 2];
            stream.write_all(&[head.as_bytes(), half].concat()).await
        }
        _ => stream.write_all(format!("{head}{body}").as_bytes()).await,
    };
    let mut buf = [0u8; 32];
    match (sent, how) {
        // The server hung up first (it may refuse a request at once).
        (Err(_), _) => None,
        (Ok(()), HangUp::After(delay)) => {
            match tokio::time::timeout(delay, stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => status(&buf[..n]),
                _ => None,
            }
        }
        (Ok(()), _) => match stream.try_read(&mut buf) {
            Ok(n) if n > 0 => status(&buf[..n]),
            _ => None,
        },
    }
}

/// The status code of `HTTP/1.1 200 OK…`.
fn status(answer: &[u8]) -> Option<u16> {
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}
