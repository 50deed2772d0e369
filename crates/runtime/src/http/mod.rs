//! HTTP for every process: the middleware ([`middleware`]), the server with its connection
//! limits ([`server`]) and its listening socket ([`listener`]), the client's address ([`client_ip`]), cross-site refusal and CORS
//! ([`origin`]), bounded waiting for the database ([`admission`]), the probes ([`health`])
//! and the request's trace ([`trace`]). Error answers are [`crate::problem`]'s.

pub mod admission;
pub mod client_ip;
pub mod health;
pub mod listener;
pub mod middleware;
pub mod origin;
pub mod server;
pub mod trace;

use tokio::net::TcpListener;

pub use client_ip::ClientIp;
pub use middleware::with_middleware;
pub use trace::RequestTrace;

/// A resource id from a path: a positive integer in plain digits (no sign, no spaces, no
/// exponent) that fits in 64 bits. Anything else names no resource.
pub fn positive_id(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|id| *id > 0)
}

/// Binds the HTTP listener (with a backlog of [`listener::LISTEN_BACKLOG`]), naming the
/// variables to change when the address is taken.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    listener::listen(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (BIND_ADDRESS, PORT): {e}"))
}

#[cfg(test)]
mod tests {
    use super::positive_id;

    #[test]
    fn ids_are_plain_positive_integers() {
        assert_eq!(positive_id("7"), Some(7));
        assert_eq!(positive_id("007"), Some(7));
        assert_eq!(positive_id("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "abc",
            "1.5",
            " 1",
            "1e3",
            "99999999999999999999",
        ] {
            assert_eq!(positive_id(bad), None, "{bad}");
        }
    }
}
