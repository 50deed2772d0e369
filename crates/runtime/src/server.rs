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
//! Each request carries the peer's address (`ConnectInfo<SocketAddr>`); [`TrustedProxies`]
//! tells the client's behind nginx.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::metrics::catalog::{HTTP_CONNECTIONS_OPEN, HTTP_CONNECTIONS_TIMED_OUT, NO_LABELS};

/// The connection limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time to send a request's head; also how long an idle kept-alive connection stays.
    pub header_read_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
        }
    }
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

/// The peer address of a connection, as [`serve`] records it on each request.
pub fn peer(req: &Request) -> Option<SocketAddr> {
    peer_of(req.extensions())
}

fn peer_of(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// The client's address, as [`TrustedProxies::client_ip`] tells it (`None` in router tests,
/// where no connection was accepted).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> axum::extract::FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    crate::service::Core: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let core = <crate::service::Core as axum::extract::FromRef<S>>::from_ref(state);
        Ok(ClientIp(core.trusted_proxies.client_ip(parts)))
    }
}

/// The proxies (nginx) whose `X-Forwarded-For` is believed: exact addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpAddr]>);

impl TrustedProxies {
    /// Addresses separated by commas (`TRUSTED_PROXIES`, default `127.0.0.1,::1`: nginx on
    /// the same host); `none` trusts no proxy.
    pub fn parse(name: &str, raw: &str) -> Result<Self, crate::ConfigError> {
        if raw.trim().eq_ignore_ascii_case("none") {
            return Ok(TrustedProxies::default());
        }
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpAddr>().map_err(|_| {
                    crate::ConfigError::new(name, format!("{s:?} is not an IP address"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|ips| TrustedProxies(ips.into()))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
    /// address in `X-Forwarded-For` that is not a trusted proxy (the ones before it could be
    /// made up by the client). `None` when the server did not record a peer (router tests).
    pub fn client_ip(&self, parts: &axum::http::request::Parts) -> Option<IpAddr> {
        let peer = peer_of(&parts.extensions)?.ip();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusts(*ip))
                .unwrap_or(peer),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: Option<&str>) -> axum::http::request::Parts {
        let mut req = axum::http::Request::builder().uri("/");
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn the_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let nginx = TrustedProxies::parse("TRUSTED_PROXIES", "127.0.0.1,::1").unwrap();
        let ip = |p: &str, f: Option<&str>| nginx.client_ip(&parts(p, f)).unwrap().to_string();
        // Through nginx: the client nginx saw (the last address it appended).
        assert_eq!(ip("127.0.0.1:5000", Some("203.0.113.9")), "203.0.113.9");
        // A client cannot choose its address by sending the header itself...
        assert_eq!(
            ip("127.0.0.1:5000", Some("10.0.0.1, 203.0.113.9")),
            "203.0.113.9"
        );
        // ...nor when it reaches the API directly.
        assert_eq!(ip("198.51.100.4:5000", Some("10.0.0.1")), "198.51.100.4");
        assert_eq!(ip("127.0.0.1:5000", None), "127.0.0.1");
        assert_eq!(ip("127.0.0.1:5000", Some("garbage")), "127.0.0.1");
        let none = TrustedProxies::parse("TRUSTED_PROXIES", "none").unwrap();
        let direct = none.client_ip(&parts("127.0.0.1:1", Some("203.0.113.9")));
        assert_eq!(direct.unwrap().to_string(), "127.0.0.1");
        let err = TrustedProxies::parse("TRUSTED_PROXIES", "nginx").unwrap_err();
        assert_eq!(err.name, "TRUSTED_PROXIES");
    }
}
