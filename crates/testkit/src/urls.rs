//! What tests need from the services' URLs: the server without a database, and the socket
//! address behind a URL for proxies and raw TCP clients.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use url::{Host, Url};

/// Parses `url`, which came from `what` (named in the panic; the URL itself may hold a
/// password, so it is not).
fn parse(url: &str, what: &str) -> Url {
    Url::parse(url).unwrap_or_else(|e| panic!("{what} is not a URL: {e}"))
}

/// `url` without its path and query: the server alone, for tests that name their own
/// database.
pub(crate) fn server_only(url: &str, what: &str) -> String {
    let mut url = parse(url, what);
    url.set_path("");
    url.set_query(None);
    url.set_fragment(None);
    url.into()
}

/// The address `url` names, on `default_port` when it names none. `localhost` is
/// 127.0.0.1, where the local services listen (it may resolve to ::1 first).
pub(crate) fn socket_addr(url: &str, what: &str, default_port: u16) -> SocketAddr {
    let url = parse(url, what);
    let port = url.port_or_known_default().unwrap_or(default_port);
    let ip = match url.host() {
        None => panic!("{what} names no host"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain("localhost")) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        // Hosts of URLs whose scheme the url crate does not know (mysql, amqp) are opaque
        // strings, IP addresses included.
        Some(Host::Domain(name)) => match name.parse() {
            Ok(ip) => ip,
            Err(_) => (name, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut addrs| addrs.next())
                .unwrap_or_else(|| panic!("{what}: cannot resolve {name}"))
                .ip(),
        },
    };
    SocketAddr::new(ip, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_only_drops_the_database_and_options() {
        for (url, server) in [
            (
                "mysql://root@127.0.0.1:3306/mysql",
                "mysql://root@127.0.0.1:3306",
            ),
            (
                "mysql://root@127.0.0.1:3306/",
                "mysql://root@127.0.0.1:3306",
            ),
            ("mysql://root@127.0.0.1:3306", "mysql://root@127.0.0.1:3306"),
            (
                "mysql://u:p%2Fw@db.example:3307/shop?ssl-mode=disabled",
                "mysql://u:p%2Fw@db.example:3307",
            ),
        ] {
            assert_eq!(server_only(url, "test"), server, "{url}");
        }
    }

    #[test]
    fn socket_addr_defaults_the_port_and_maps_localhost() {
        for (url, default_port, addr) in [
            ("mysql://root@127.0.0.1:3306/mysql", 3306, "127.0.0.1:3306"),
            ("mysql://root@localhost/mysql", 3306, "127.0.0.1:3306"),
            ("mysql://root@10.1.2.3:3310", 3306, "10.1.2.3:3310"),
            (
                "amqp://guest:guest@127.0.0.1:5672/%2f",
                5672,
                "127.0.0.1:5672",
            ),
            ("amqp://guest:guest@localhost/%2f", 5672, "127.0.0.1:5672"),
            ("amqp://guest:guest@[::1]:5673/%2f", 5672, "[::1]:5673"),
            ("http://127.0.0.1:8000", 80, "127.0.0.1:8000"),
            ("http://127.0.0.1:8000/", 80, "127.0.0.1:8000"),
        ] {
            let want: SocketAddr = addr.parse().unwrap();
            assert_eq!(socket_addr(url, "test", default_port), want, "{url}");
        }
    }
}
