//! How the HTTP servers run: connection limits (every process, the consumers' probes too),
//! and what only an API needs (cookies, other sites, proxies, waiting room, list freshness).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, Env};

/// The connection limits of [`crate::http::server::serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time to send a request's head; also how long an idle kept-alive connection stays.
    pub header_read_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Threads serving connections, each with a single-threaded runtime of its own
    /// (`HTTP_THREADS`); `None`: the process's choice ([`crate::http::server`]).
    pub threads: Option<usize>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            threads: None,
        }
    }
}

impl ServerLimits {
    /// `HTTP_HEADER_READ_TIMEOUT_MS`, `HTTP_MAX_CONNECTIONS`, `HTTP_THREADS`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = ServerLimits::default();
        let max_connections: usize = env.parse("HTTP_MAX_CONNECTIONS", defaults.max_connections)?;
        if max_connections == 0 {
            return Err(ConfigError::new(
                "HTTP_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(ServerLimits {
            header_read_timeout: env.millis(
                "HTTP_HEADER_READ_TIMEOUT_MS",
                defaults.header_read_timeout.as_millis() as u64,
                100,
            )?,
            max_connections,
            threads: match env.get("HTTP_THREADS") {
                None => None,
                Some(_) => Some(env.parse("HTTP_THREADS", 0)?),
            },
        })
    }
}

/// The proxies (nginx) whose `X-Forwarded-For` is believed: exact addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpAddr]>);

impl TrustedProxies {
    /// Addresses separated by commas (`TRUSTED_PROXIES`, default `127.0.0.1,::1`: nginx on
    /// the same host); `none` trusts no proxy.
    pub fn parse(name: &str, raw: &str) -> Result<Self, ConfigError> {
        if raw.trim().eq_ignore_ascii_case("none") {
            return Ok(TrustedProxies::default());
        }
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpAddr>()
                    .map_err(|_| ConfigError::new(name, format!("{s:?} is not an IP address")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|ips| TrustedProxies(ips.into()))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

/// The origins allowed besides the request's own, normalised (`scheme://host[:port]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Arc<[String]>);

impl AllowedOrigins {
    /// Parses `CORS_ALLOWED_ORIGINS`: origins separated by commas. `*` is refused: with
    /// credentials (cookies) it would let every site act as the user.
    pub fn parse(name: &str, raw: &str) -> Result<Self, ConfigError> {
        let mut origins = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                return Err(ConfigError::new(
                    name,
                    "* is not allowed (it would let any site act with the user's cookies); list the origins",
                ));
            }
            let url = url::Url::parse(item)
                .map_err(|e| ConfigError::new(name, format!("{item:?} is not an origin: {e}")))?;
            let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !bare {
                return Err(ConfigError::new(
                    name,
                    format!("{item:?} is not an origin (expected scheme://host[:port])"),
                ));
            }
            origins.push(url.origin().ascii_serialization());
        }
        Ok(AllowedOrigins(origins.into()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// The origins, normalised.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// What an HTTP API needs besides its server's limits.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Mark the cookies the services set `Secure` (`COOKIE_SECURE`, for a shop served over
    /// HTTPS).
    pub cookie_secure: bool,
    /// Other sites allowed to call the APIs from a browser (`CORS_ALLOWED_ORIGINS`).
    pub allowed_origins: AllowedOrigins,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// How fresh the in-memory lists are kept.
    pub lists: ListSettings,
    /// Requests that may wait for a database connection at once, beyond the pool's
    /// (`HTTP_MAX_WAITING`, default 256); more are answered `503` with `Retry-After` at once.
    pub max_waiting: usize,
}

impl HttpSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(HttpSettings {
            cookie_secure: env.bool("COOKIE_SECURE", false)?,
            allowed_origins: AllowedOrigins::parse(
                "CORS_ALLOWED_ORIGINS",
                env.get("CORS_ALLOWED_ORIGINS").unwrap_or(""),
            )?,
            trusted_proxies: TrustedProxies::parse(
                "TRUSTED_PROXIES",
                &env.string("TRUSTED_PROXIES", "127.0.0.1,::1"),
            )?,
            lists: ListSettings::from_env(env)?,
            max_waiting: env.parse("HTTP_MAX_WAITING", 256)?,
        })
    }
}

/// How fresh the in-memory product lists are kept: like counts may be served up to
/// `LIST_COUNTS_MAX_AGE_MS` (default 250) late; every `LIST_VERSION_CHECK_MS` (default 250)
/// each API compares the database's change versions with its own, the safety net for a
/// change notice it missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSettings {
    pub counts_max_age: Duration,
    pub version_check: Duration,
}

impl ListSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(ListSettings {
            counts_max_age: env.millis("LIST_COUNTS_MAX_AGE_MS", 250, 0)?,
            version_check: env.millis("LIST_VERSION_CHECK_MS", 250, 10)?,
        })
    }
}
