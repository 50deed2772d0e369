//! `AMQP_ADDRESSES`: the nodes of a broker cluster, tried in turn with the credentials and
//! options of `AMQP_URL`.

use std::fmt;

use crate::config::Env;

/// One node of a cluster: a host and a port, never credentials (so it may be logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// A name, an IPv4 address or an IPv6 address (without brackets).
    pub host: String,
    pub port: u16,
}

impl fmt::Display for BrokerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The scheme of an AMQP URL (`amqp` or `amqps`), already checked by `broker_url`.
pub(super) fn scheme_of(url: &str) -> &'static str {
    if url.trim_start().starts_with("amqps://") {
        "amqps"
    } else {
        "amqp"
    }
}

/// `AMQP_ADDRESSES` (`raw`) for a broker URL whose scheme is `scheme`: the entries, or why
/// they are refused. An entry is `host`, `host:port` or `[ipv6]:port`, optionally after
/// `amqp://` or `amqps://` (which must then be `scheme`); a missing port is the scheme's
/// (5672, or 5671 for `amqps`). An entry that looks like it holds credentials is refused
/// without being quoted.
fn parse_addresses(raw: &str, scheme: &str) -> Result<Vec<BrokerAddress>, String> {
    let mut out: Vec<BrokerAddress> = Vec::new();
    let mut schemes = std::collections::BTreeSet::new();
    for (i, entry) in raw.split(',').enumerate() {
        let n = i + 1;
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(format!(
                "entry {n} is empty (a stray comma?); expected host:port,host:port,…"
            ));
        }
        if entry.contains('@') {
            return Err(format!(
                "entry {n} holds credentials: they belong in AMQP_URL (or its secret), which \
                 gives every address its scheme, user, password and vhost"
            ));
        }
        let rest = match entry.split_once("://") {
            Some((s, rest)) => {
                let s = s.to_ascii_lowercase();
                if s != "amqp" && s != "amqps" {
                    return Err(format!(
                        "entry {n} {entry:?}: the scheme must be amqp:// or amqps:// (or none)"
                    ));
                }
                schemes.insert(s);
                rest
            }
            None => entry,
        };
        let address = parse_host_port(rest, scheme)
            .map_err(|reason| format!("entry {n} {entry:?}: {reason}"))?;
        if let Some(m) = out.iter().position(|a| *a == address) {
            return Err(format!("entry {n} {entry:?} repeats entry {}", m + 1));
        }
        out.push(address);
    }
    if schemes.len() > 1 {
        return Err(
            "entries mix amqp:// and amqps://; every node is reached with AMQP_URL's scheme"
                .to_owned(),
        );
    }
    if let Some(s) = schemes.first()
        && s != scheme
    {
        return Err(format!(
            "entries are {s}:// but AMQP_URL is {scheme}://; every node is reached with \
             AMQP_URL's scheme (the prefix may be left out)"
        ));
    }
    Ok(out)
}

/// `host`, `host:port` or `[ipv6]:port`, nothing after it.
fn parse_host_port(s: &str, scheme: &str) -> Result<BrokerAddress, String> {
    let s = s.strip_suffix('/').unwrap_or(s);
    if s.contains(['/', '?', '#']) {
        return Err("only host[:port] here; the vhost and options come from AMQP_URL".to_owned());
    }
    let (host, port) = if let Some(bracketed) = s.strip_prefix('[') {
        let (v6, after) = bracketed
            .split_once(']')
            .ok_or("an IPv6 address needs its closing ]")?;
        v6.parse::<std::net::Ipv6Addr>()
            .map_err(|_| "not an IPv6 address between [ and ]")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("expected :port after ]")?),
        };
        (v6, port)
    } else {
        match s.split_once(':') {
            Some((_, p)) if p.contains(':') => {
                return Err("an IPv6 address goes between [ and ], e.g. [::1]:5672".to_owned());
            }
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing".to_owned());
    }
    if !host.contains(':')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err("a host is letters, digits, '-', '.' and '_'".to_owned());
    }
    let port = match port {
        None if scheme == "amqps" => 5671,
        None => 5672,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err("the port must be a number from 1 to 65535".to_owned()),
        },
    };
    Ok(BrokerAddress {
        host: host.to_owned(),
        port,
    })
}

/// Why `AMQP_ADDRESSES` cannot be used with a broker URL.
pub(super) enum AddressError {
    /// The list itself (`AMQP_ADDRESSES`, a scheme other than the URL's).
    List(String),
    /// The URL does not parse, so its host and port cannot be replaced.
    Url,
}

pub(super) const UNPARSED_URL: &str = "is not a valid AMQP URL (user, password, host, port, vhost, \
                            options), which AMQP_ADDRESSES needs to reach its nodes";

/// `AMQP_ADDRESSES` from `env` for the broker URL `url`; empty when unset. When set,
/// `url` must parse as an AMQP URL (its host and port are replaced per address, so a bad
/// one would otherwise only show at the first connection).
pub(super) fn addresses(env: &Env, url: &str) -> Result<Vec<BrokerAddress>, AddressError> {
    let Some(raw) = env.get("AMQP_ADDRESSES") else {
        return Ok(Vec::new());
    };
    let list = parse_addresses(raw, scheme_of(url)).map_err(AddressError::List)?;
    url.parse::<lapin::uri::AMQPUri>()
        .map_err(|_| AddressError::Url)?;
    Ok(list)
}
