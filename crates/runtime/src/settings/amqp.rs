//! Where and how to talk to RabbitMQ.
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

use super::ServiceDefaults;
use super::addresses::{AddressError, BrokerAddress, UNPARSED_URL, addresses};
use crate::config::{ConfigError, Env, Secret};

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
