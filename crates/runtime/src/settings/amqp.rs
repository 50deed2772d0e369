//! Where and how to talk to RabbitMQ, and how the outbox relay and the consumer work.
//!
//! A cluster's nodes are listed in `AMQP_ADDRESSES` (`host[:port]`, comma-separated, for
//! example `rabbit-0:5672,rabbit-1:5672,rabbit-2:5672`); the scheme, credentials, vhost and
//! options still come from `AMQP_URL` (or the `AMQP_SECRET_ID` secret), whose own host and
//! port are then not used. The list holds no secret, so it may be logged; an entry with
//! credentials is refused. Without `AMQP_ADDRESSES`, `AMQP_URL` alone is used exactly as
//! before. [`crate::amqp::connect`] tries the addresses in turn.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, Env, Secret, ServiceDefaults};

/// Where and how to talk to RabbitMQ.
#[derive(Debug, Clone)]
pub struct AmqpSettings {
    pub url: Secret<String>,
    /// The cluster's nodes (`AMQP_ADDRESSES`), each reached with `url`'s scheme,
    /// credentials, vhost and options in place of its host and port; empty: `url` alone.
    pub addresses: Vec<BrokerAddress>,
    pub connect_timeout: Duration,
    /// Bound on one publish and its confirm.
    pub publish_timeout: Duration,
    /// Cap of the exponential backoff between reconnection attempts.
    pub reconnect_max: Duration,
    /// The queue this service's outbox relay publishes to (the other service consumes it).
    pub publish_queue: String,
    /// The queue this service's consumer takes its events from.
    pub consume_queue: String,
    /// CAs to trust for `amqps://` besides the system's (`AMQP_CA_FILE`).
    pub ca: Option<CaFile>,
}

/// A PEM file of CA certificates, read at start so that a bad path stops the process.
#[derive(Clone)]
pub struct CaFile {
    pub path: PathBuf,
    pub pem: String,
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CaFile").field(&self.path).finish()
    }
}

impl CaFile {
    /// Reads `path`, named by variable `var`; it must hold at least one PEM certificate.
    pub fn read(var: &str, path: &str) -> Result<Self, ConfigError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(var, format!("cannot read {path:?}: {e}")))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError::new(
                var,
                format!("{path:?} holds no PEM certificate"),
            ));
        }
        Ok(CaFile {
            path: PathBuf::from(path),
            pem,
        })
    }
}

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

/// The scheme of an AMQP URL (`amqp` or `amqps`), already checked by [`broker_url`].
fn scheme_of(url: &str) -> &'static str {
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
enum AddressError {
    /// The list itself (`AMQP_ADDRESSES`, a scheme other than the URL's).
    List(String),
    /// The URL does not parse, so its host and port cannot be replaced.
    Url,
}

const UNPARSED_URL: &str = "is not a valid AMQP URL (user, password, host, port, vhost, \
                            options), which AMQP_ADDRESSES needs to reach its nodes";

/// `AMQP_ADDRESSES` from `env` for the broker URL `url`; empty when unset. When set,
/// `url` must parse as an AMQP URL (its host and port are replaced per address, so a bad
/// one would otherwise only show at the first connection).
fn addresses(env: &Env, url: &str) -> Result<Vec<BrokerAddress>, AddressError> {
    let Some(raw) = env.get("AMQP_ADDRESSES") else {
        return Ok(Vec::new());
    };
    let list = parse_addresses(raw, scheme_of(url)).map_err(AddressError::List)?;
    url.parse::<lapin::uri::AMQPUri>()
        .map_err(|_| AddressError::Url)?;
    Ok(list)
}

/// `url` checked and with a heartbeat, unless it sets its own; the reason when it is not an
/// AMQP URL (never quoting it: it holds the password).
fn broker_url(url: &str, heartbeat: u16) -> Result<String, &'static str> {
    let url = url.trim();
    if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
        return Err(
            "must start with amqp:// or amqps:// (for example amqp://guest:guest@127.0.0.1:5672/%2f)",
        );
    }
    // Heartbeats find a dead peer (a broker host gone without closing the socket) within
    // seconds instead of the kernel's TCP timeout. A URL that sets its own wins.
    if url.contains("heartbeat=") {
        return Ok(url.to_owned());
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}heartbeat={heartbeat}"))
}

impl AmqpSettings {
    pub fn from_env(env: &Env, defaults: &ServiceDefaults) -> Result<Self, ConfigError> {
        let heartbeat: u16 = env.parse("AMQP_HEARTBEAT_SECS", 10)?;
        let url = broker_url(
            &env.string("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
            heartbeat,
        )
        .map_err(|reason| ConfigError::new("AMQP_URL", reason))?;
        let addresses = addresses(env, &url).map_err(|e| match e {
            AddressError::List(reason) => ConfigError::new("AMQP_ADDRESSES", reason),
            AddressError::Url => ConfigError::new("AMQP_URL", UNPARSED_URL),
        })?;
        let queue = |name: &str, default: &str| -> Result<String, ConfigError> {
            let q = env.string(name, default);
            if q.len() > 200 || q.starts_with("amq.") {
                return Err(ConfigError::new(
                    name,
                    "a queue name is at most 200 characters and may not start with amq.",
                ));
            }
            Ok(q)
        };
        Ok(AmqpSettings {
            url: Secret::new(url),
            addresses,
            connect_timeout: env.millis("AMQP_CONNECT_TIMEOUT_MS", 5_000, 1)?,
            publish_timeout: env.millis("AMQP_PUBLISH_TIMEOUT_MS", 5_000, 1)?,
            reconnect_max: env.millis("AMQP_RECONNECT_MAX_MS", 10_000, 10)?,
            publish_queue: queue(defaults.publishes_to.var, defaults.publishes_to.default)?,
            consume_queue: queue(defaults.consumes.var, defaults.consumes.default)?,
            ca: env
                .get("AMQP_CA_FILE")
                .map(|path| CaFile::read("AMQP_CA_FILE", path.trim()))
                .transpose()?,
        })
    }

    /// Replaces the broker URL (with one from a secret); the reason when it is not an AMQP
    /// URL, or when `AMQP_ADDRESSES` does not fit it (another scheme).
    pub fn set_url(&mut self, url: &str, env: &Env) -> Result<(), String> {
        let heartbeat: u16 = env
            .parse("AMQP_HEARTBEAT_SECS", 10)
            .map_err(|e| e.to_string())?;
        let url = broker_url(url, heartbeat)?;
        self.addresses = addresses(env, &url).map_err(|e| match e {
            AddressError::List(reason) => ConfigError::new("AMQP_ADDRESSES", reason).to_string(),
            AddressError::Url => UNPARSED_URL.to_owned(),
        })?;
        self.url = Secret::new(url);
        Ok(())
    }
}

/// How the outbox relay works.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// Fallback poll when no commit woke the relay.
    pub poll_interval: Duration,
    pub batch_size: u32,
    /// How long published rows are kept before they are purged.
    pub retention: Duration,
}

impl OutboxSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let batch_size: u32 = env.parse("OUTBOX_BATCH_SIZE", 200)?;
        if !(1..=10_000).contains(&batch_size) {
            return Err(ConfigError::new(
                "OUTBOX_BATCH_SIZE",
                "must be between 1 and 10000",
            ));
        }
        let retention_hours: u64 = env.parse("OUTBOX_RETENTION_HOURS", 168)?;
        Ok(OutboxSettings {
            poll_interval: env.millis("OUTBOX_POLL_INTERVAL_MS", 100, 10)?,
            batch_size,
            retention: Duration::from_secs(retention_hours * 3600),
        })
    }
}

/// How a consumer takes messages.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Unacknowledged deliveries the broker may push ahead of the one in hand.
    pub prefetch: u16,
    /// Deliveries applied in one database transaction at most (`CONSUMER_BATCH_SIZE`,
    /// default 100; 1 applies each on its own). A batch is what has arrived, never a wait.
    pub batch_size: usize,
    /// How long processed message ids are remembered for de-duplication.
    pub processed_retention: Duration,
}

impl ConsumerSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let prefetch: u16 = env.parse("CONSUMER_PREFETCH", 200)?;
        if !(1..=1000).contains(&prefetch) {
            return Err(ConfigError::new(
                "CONSUMER_PREFETCH",
                "must be between 1 and 1000",
            ));
        }
        let days: u64 = env.parse("PROCESSED_RETENTION_DAYS", 30)?;
        if days == 0 {
            return Err(ConfigError::new(
                "PROCESSED_RETENTION_DAYS",
                "must be at least 1",
            ));
        }
        let batch_size: usize = env.parse("CONSUMER_BATCH_SIZE", 100)?;
        if !(1..=1000).contains(&batch_size) {
            return Err(ConfigError::new(
                "CONSUMER_BATCH_SIZE",
                "must be between 1 and 1000",
            ));
        }
        Ok(ConsumerSettings {
            prefetch,
            batch_size,
            processed_retention: Duration::from_secs(days * 86_400),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ADMIN_API;

    fn settings(pairs: &[(&str, &str)]) -> Result<AmqpSettings, ConfigError> {
        AmqpSettings::from_env(&Env::from_pairs(pairs.iter().copied()), &ADMIN_API)
    }

    fn addr(host: &str, port: u16) -> BrokerAddress {
        BrokerAddress {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn one_url_alone_has_no_addresses() {
        let s = settings(&[("AMQP_URL", "amqp://u:p@rabbit:5673/shop")]).unwrap();
        assert!(s.addresses.is_empty());
        assert_eq!(s.url.expose(), "amqp://u:p@rabbit:5673/shop?heartbeat=10");
        // Blank counts as unset, as for every variable.
        let s = settings(&[("AMQP_ADDRESSES", "  ")]).unwrap();
        assert!(s.addresses.is_empty());
    }

    #[test]
    fn addresses_are_host_and_port_with_the_schemes_default() {
        let s = settings(&[
            ("AMQP_URL", "amqp://u:p@ignored:1/shop"),
            (
                "AMQP_ADDRESSES",
                " rabbit-0:5672, rabbit-1 ,amqp://10.0.0.3:5674,[::1]:5675,[fe80::1] ",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.addresses,
            [
                addr("rabbit-0", 5672),
                addr("rabbit-1", 5672),
                addr("10.0.0.3", 5674),
                addr("::1", 5675),
                addr("fe80::1", 5672),
            ]
        );
        assert_eq!(s.addresses[3].to_string(), "[::1]:5675");
        assert_eq!(s.addresses[0].to_string(), "rabbit-0:5672");
        // The URL is kept whole: credentials, vhost and options for every address.
        assert_eq!(s.url.expose(), "amqp://u:p@ignored:1/shop?heartbeat=10");

        let s = settings(&[
            ("AMQP_URL", "amqps://u:p@ignored/shop"),
            ("AMQP_ADDRESSES", "a,amqps://b:5679"),
        ])
        .unwrap();
        assert_eq!(s.addresses, [addr("a", 5671), addr("b", 5679)]);
    }

    #[test]
    fn bad_address_lists_name_the_variable_and_never_quote_credentials() {
        for (list, expect) in [
            ("a:5672,,b:5672", "entry 2 is empty"),
            ("a:5672,", "entry 2 is empty"),
            (",a", "entry 1 is empty"),
            ("amqp://a:5672,amqps://b:5671", "mix amqp:// and amqps://"),
            (
                "amqps://a:5671",
                "entries are amqps:// but AMQP_URL is amqp://",
            ),
            ("http://a:80", "the scheme must be amqp:// or amqps://"),
            ("a:0", "the port must be a number"),
            ("a:99999", "the port must be a number"),
            ("a:port", "the port must be a number"),
            ("a:", "the port must be a number"),
            (":5672", "the host is missing"),
            ("a b:5672", "a host is letters"),
            ("::1:5672", "between [ and ]"),
            ("[::1:5672", "closing ]"),
            ("[nope]:5672", "not an IPv6 address"),
            ("a:5672/shop", "only host[:port]"),
            ("a:5672?heartbeat=1", "only host[:port]"),
            ("a:5672,b:5672,a:5672", "entry 3 \"a:5672\" repeats entry 1"),
            ("guest:secret-password@a:5672", "holds credentials"),
            ("amqp://u:secret-password@a:5672", "holds credentials"),
        ] {
            let err = settings(&[("AMQP_ADDRESSES", list)]).unwrap_err();
            assert_eq!(err.name, "AMQP_ADDRESSES", "{list}");
            let msg = err.to_string();
            assert!(msg.contains("AMQP_ADDRESSES"), "{msg}");
            assert!(msg.contains(expect), "{list}: {msg}");
            assert!(!msg.contains("secret-password"), "{msg}");
        }
    }

    #[test]
    fn a_url_that_does_not_parse_is_refused_with_addresses_only() {
        let bad = "amqp://u:secret-password@h:notaport/%2f";
        // Alone, it is checked as before (the prefix), and fails at connection.
        assert!(settings(&[("AMQP_URL", bad)]).is_ok());
        let err = settings(&[("AMQP_URL", bad), ("AMQP_ADDRESSES", "a,b")]).unwrap_err();
        assert_eq!(err.name, "AMQP_URL");
        assert!(!err.to_string().contains("secret-password"), "{err}");
        // A URL that is not AMQP at all names AMQP_URL, addresses or not.
        let err = settings(&[("AMQP_URL", "http://x"), ("AMQP_ADDRESSES", "a")]).unwrap_err();
        assert_eq!(err.name, "AMQP_URL");
    }

    #[test]
    fn a_url_from_a_secret_is_checked_against_the_addresses() {
        let env = Env::from_pairs([("AMQP_ADDRESSES", "amqp://a:5672,b")]);
        let mut s = AmqpSettings::from_env(&env, &ADMIN_API).unwrap();
        s.set_url("amqp://u:p@h/%2f", &env).unwrap();
        assert_eq!(s.addresses, [addr("a", 5672), addr("b", 5672)]);
        let err = s.set_url("amqps://u:p@h/%2f", &env).unwrap_err();
        assert!(err.contains("AMQP_ADDRESSES"), "{err}");
        assert!(err.contains("entries are amqp://"), "{err}");
        // Refused: the settings keep what they had.
        assert_eq!(s.url.expose(), "amqp://u:p@h/%2f?heartbeat=10");
    }
}
