//! The client's address: the peer's, or, behind a trusted proxy (nginx), the one it
//! forwarded.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::request::Parts;

use crate::settings::TrustedProxies;

/// The peer address of a connection, as [`super::server::serve`] records it on each request.
pub fn peer(req: &Request) -> Option<SocketAddr> {
    peer_of(req.extensions())
}

fn peer_of(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// The client's address, as [`client_ip`] tells it (`None` in router tests,
/// where no connection was accepted).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    TrustedProxies: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(&TrustedProxies::from_ref(state), parts)))
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not a trusted proxy (the ones before it could be
/// made up by the client). `None` when the server did not record a peer (router tests).
pub fn client_ip(proxies: &TrustedProxies, parts: &Parts) -> Option<IpAddr> {
    let peer = peer_of(&parts.extensions)?.ip();
    if !proxies.trusts(peer) {
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
            .find(|ip| !proxies.trusts(*ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
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
        let ip = |p: &str, f: Option<&str>| client_ip(&nginx, &parts(p, f)).unwrap().to_string();
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
        let direct = client_ip(&none, &parts("127.0.0.1:1", Some("203.0.113.9")));
        assert_eq!(direct.unwrap().to_string(), "127.0.0.1");
        let err = TrustedProxies::parse("TRUSTED_PROXIES", "nginx").unwrap_err();
        assert_eq!(err.name, "TRUSTED_PROXIES");
    }
}
