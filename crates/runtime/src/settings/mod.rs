//! Typed settings read from the environment, validated at start.
//!
//! Every variable has a default in code; a value that is present but bad stops the process
//! with a message naming the variable. Secrets are wrapped so they never print.

mod amqp;
mod database;
mod env;

use std::net::{IpAddr, SocketAddr};

pub use amqp::{AmqpSettings, BrokerAddress, ConsumerSettings, OutboxSettings};
pub use database::DatabaseSettings;
pub use env::{ConfigError, Env, Secret};

/// What differs between the two services' defaults.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    /// The process's name: the trace service name (unless `OTEL_SERVICE_NAME` says
    /// otherwise), as the process is named in Prometheus' jobs and docker-compose.yml.
    pub process: &'static str,
    /// The `app_id` on published messages, and the service name in logs.
    pub app_id: &'static str,
    pub port: u16,
    pub database: &'static str,
    /// The queue the service's outbox publishes to.
    pub publishes_to: QueueVar,
    /// The queue the service's consumer takes.
    pub consumes: QueueVar,
}

/// admin-api: the catalogue's HTTP API; its relay publishes product events to `main`.
pub const ADMIN_API: ServiceDefaults = ServiceDefaults {
    process: "admin-api",
    app_id: "admin-svc",
    port: 8000,
    database: "admin",
    publishes_to: MAIN_QUEUE,
    consumes: ADMIN_QUEUE,
};

/// admin-consumer: applies the shop's likes (queue `admin`) to the catalogue.
pub const ADMIN_CONSUMER: ServiceDefaults = ServiceDefaults {
    process: "admin-consumer",
    app_id: "admin-consumer",
    port: 8001,
    ..ADMIN_API
};

/// main-api: the shop's HTTP API; its relay publishes like events to `admin`.
pub const MAIN_API: ServiceDefaults = ServiceDefaults {
    process: "main-api",
    app_id: "main-svc",
    port: 5000,
    database: "main",
    publishes_to: ADMIN_QUEUE,
    consumes: MAIN_QUEUE,
};

/// main-consumer: applies the catalogue's product events (queue `main`) to the mirror.
pub const MAIN_CONSUMER: ServiceDefaults = ServiceDefaults {
    process: "main-consumer",
    app_id: "main-consumer",
    port: 5001,
    ..MAIN_API
};

/// A queue name: the environment variable that sets it, and its default.
#[derive(Debug, Clone, Copy)]
pub struct QueueVar {
    pub var: &'static str,
    pub default: &'static str,
}

/// The queue of product events, from admin-svc to main-svc (`MAIN_QUEUE`).
pub const MAIN_QUEUE: QueueVar = QueueVar {
    var: "MAIN_QUEUE",
    default: events::DEFAULT_MAIN_QUEUE,
};

/// The queue of like events, from main-svc to admin-svc (`ADMIN_QUEUE`).
pub const ADMIN_QUEUE: QueueVar = QueueVar {
    var: "ADMIN_QUEUE",
    default: events::DEFAULT_ADMIN_QUEUE,
};

/// Everything one service process needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app_id: &'static str,
    /// Address the HTTP API listens on (`BIND_ADDRESS`, `PORT`).
    pub http_addr: SocketAddr,
    pub database: DatabaseSettings,
    pub amqp: AmqpSettings,
    pub outbox: OutboxSettings,
    pub consumer: ConsumerSettings,
    pub http: HttpSettings,
}

/// How the HTTP APIs talk to browsers.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Mark the cookies the services set `Secure` (`COOKIE_SECURE`, for a shop served over
    /// HTTPS).
    pub cookie_secure: bool,
    /// `HTTP_HEADER_READ_TIMEOUT_MS`, `HTTP_MAX_CONNECTIONS`.
    pub limits: crate::server::ServerLimits,
    /// Other sites allowed to call the APIs from a browser (`CORS_ALLOWED_ORIGINS`).
    pub allowed_origins: crate::origin::AllowedOrigins,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: crate::server::TrustedProxies,
    /// Admin sign-in (admin-api only).
    pub admin: AdminAuthSettings,
    /// Likes a client may send (main-api only).
    pub likes: LikeLimitSettings,
    /// How fresh the in-memory lists are kept ([`crate::listing`]).
    pub lists: ListSettings,
    /// Requests that may wait for a database connection at once, beyond the pool's
    /// (`HTTP_MAX_WAITING`, default 256); more are answered `503` with `Retry-After` at once.
    pub max_waiting: usize,
}

/// How fresh the in-memory product lists are kept: like counts may be served up to
/// `LIST_COUNTS_MAX_AGE_MS` (default 250) late; every `LIST_VERSION_CHECK_MS` (default 250)
/// each API compares the database's change versions with its own, the safety net for a
/// change notice it missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSettings {
    pub counts_max_age: std::time::Duration,
    pub version_check: std::time::Duration,
}

impl ListSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(ListSettings {
            counts_max_age: env.millis("LIST_COUNTS_MAX_AGE_MS", 250, 0)?,
            version_check: env.millis("LIST_VERSION_CHECK_MS", 250, 10)?,
        })
    }
}

/// How fast one client may like (main-api): per client address
/// (`LIKES_PER_MINUTE_PER_ADDRESS`, default 600, shoppers behind one NAT share it) and per
/// shopper (`LIKES_PER_MINUTE_PER_SHOPPER`, default 60); each allows a burst of a sixth of
/// its minute at once. `0` turns a limit off (load tests from one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LikeLimitSettings {
    pub per_address_per_minute: u32,
    pub per_shopper_per_minute: u32,
}

impl LikeLimitSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(LikeLimitSettings {
            per_address_per_minute: env.parse("LIKES_PER_MINUTE_PER_ADDRESS", 600)?,
            per_shopper_per_minute: env.parse("LIKES_PER_MINUTE_PER_SHOPPER", 60)?,
        })
    }
}

/// How admins sign in to admin-api.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAuthSettings {
    /// `ADMIN_AUTH=disabled`: no sign-in required (for teams migrating from the original);
    /// warned about at start and in the health answer. Never the default.
    pub disabled: bool,
    /// A session unused this long ends (`SESSION_IDLE_MINUTES`, default 60).
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in, used or not (`SESSION_MAX_HOURS`, default 12).
    pub session_max: std::time::Duration,
}

impl AdminAuthSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let disabled = match env
            .string("ADMIN_AUTH", "enabled")
            .to_ascii_lowercase()
            .as_str()
        {
            "enabled" => false,
            "disabled" => true,
            other => {
                return Err(ConfigError::new(
                    "ADMIN_AUTH",
                    format!("expected enabled or disabled (got {other:?})"),
                ));
            }
        };
        let idle: u64 = env.parse("SESSION_IDLE_MINUTES", 60)?;
        let max: u64 = env.parse("SESSION_MAX_HOURS", 12)?;
        if idle == 0 {
            return Err(ConfigError::new(
                "SESSION_IDLE_MINUTES",
                "must be at least 1",
            ));
        }
        if max == 0 {
            return Err(ConfigError::new("SESSION_MAX_HOURS", "must be at least 1"));
        }
        Ok(AdminAuthSettings {
            disabled,
            session_idle: std::time::Duration::from_secs(idle * 60),
            session_max: std::time::Duration::from_secs(max * 3600),
        })
    }
}

impl HttpSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = crate::server::ServerLimits::default();
        let max_connections: usize = env.parse("HTTP_MAX_CONNECTIONS", defaults.max_connections)?;
        if max_connections == 0 {
            return Err(ConfigError::new(
                "HTTP_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(HttpSettings {
            cookie_secure: env.bool("COOKIE_SECURE", false)?,
            limits: crate::server::ServerLimits {
                header_read_timeout: env.millis(
                    "HTTP_HEADER_READ_TIMEOUT_MS",
                    defaults.header_read_timeout.as_millis() as u64,
                    100,
                )?,
                max_connections,
            },
            allowed_origins: crate::origin::AllowedOrigins::parse(
                "CORS_ALLOWED_ORIGINS",
                env.get("CORS_ALLOWED_ORIGINS").unwrap_or(""),
            )?,
            trusted_proxies: crate::server::TrustedProxies::parse(
                "TRUSTED_PROXIES",
                &env.string("TRUSTED_PROXIES", "127.0.0.1,::1"),
            )?,
            admin: AdminAuthSettings::from_env(env)?,
            likes: LikeLimitSettings::from_env(env)?,
            lists: ListSettings::from_env(env)?,
            max_waiting: env.parse("HTTP_MAX_WAITING", 256)?,
        })
    }
}

impl Settings {
    pub fn from_env(env: &Env, defaults: ServiceDefaults) -> Result<Self, ConfigError> {
        let bind: IpAddr = env.parse("BIND_ADDRESS", IpAddr::from([0, 0, 0, 0]))?;
        let port: u16 = env.parse("PORT", defaults.port)?;
        Ok(Settings {
            app_id: defaults.app_id,
            http_addr: SocketAddr::new(bind, port),
            database: DatabaseSettings::from_env(env, defaults.database)?,
            amqp: AmqpSettings::from_env(env, &defaults)?,
            outbox: OutboxSettings::from_env(env)?,
            consumer: ConsumerSettings::from_env(env)?,
            http: HttpSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: ServiceDefaults = ADMIN_API;

    #[test]
    fn defaults_need_no_environment() {
        let s = Settings::from_env(&Env::default(), ADMIN).unwrap();
        assert_eq!(s.http_addr.to_string(), "0.0.0.0:8000");
        assert_eq!(s.database.database_name(), "admin");
        assert_eq!(s.database.options.get_host(), "127.0.0.1");
        assert_eq!(s.amqp.publish_queue, "main");
        assert_eq!(s.amqp.consume_queue, "admin");
        assert!(!s.http.cookie_secure);
    }

    #[test]
    fn original_sql_names_are_honoured() {
        let env = Env::from_pairs([
            ("SQL_HOST", "db"),
            ("SQL_PORT", "3307"),
            ("SQL_USER", "shop"),
            ("SQL_PASSWORD", "hunter2"),
            ("SQL_DATABASE", "catalogue"),
        ]);
        let s = DatabaseSettings::from_env(&env, "admin").unwrap();
        assert_eq!(s.options.get_host(), "db");
        assert_eq!(s.options.get_port(), 3307);
        assert_eq!(s.options.get_username(), "shop");
        assert_eq!(s.database_name(), "catalogue");
    }

    #[test]
    fn database_url_wins_and_gets_the_default_database() {
        let env = Env::from_pairs([
            ("DATABASE_URL", "mysql://u:p@h:1234"),
            ("SQL_HOST", "ignored"),
        ]);
        let s = DatabaseSettings::from_env(&env, "main").unwrap();
        assert_eq!(s.options.get_host(), "h");
        assert_eq!(s.database_name(), "main");
    }

    #[test]
    fn bad_values_name_the_variable_and_hide_secrets() {
        for (name, value) in [
            ("PORT", "eighty"),
            ("SQL_PORT", "99999"),
            ("SQL_PORT", "0"),
            ("BIND_ADDRESS", "localhost:80"),
            ("AMQP_URL", "http://secret-password@x"),
            ("DATABASE_URL", "postgres://user:secret-password@x"),
            ("DB_MAX_CONNECTIONS", "0"),
            ("OUTBOX_POLL_INTERVAL_MS", "1"),
            ("OUTBOX_BATCH_SIZE", "0"),
            ("MAIN_QUEUE", "amq.reserved"),
            ("DB_CREATE_IF_MISSING", "maybe"),
            ("CONSUMER_PREFETCH", "0"),
            ("PROCESSED_RETENTION_DAYS", "-1"),
        ] {
            let err = Settings::from_env(&Env::from_pairs([(name, value)]), ADMIN).unwrap_err();
            assert_eq!(err.name, name);
            let msg = err.to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(!msg.contains("secret-password"), "{msg}");
        }
    }

    #[test]
    fn heartbeat_is_on_unless_the_url_sets_it() {
        let s = AmqpSettings::from_env(&Env::default(), &ADMIN).unwrap();
        assert_eq!(
            s.url.expose(),
            "amqp://guest:guest@127.0.0.1:5672/%2f?heartbeat=10"
        );
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://h/%2f?heartbeat=3"),
            ("AMQP_HEARTBEAT_SECS", "30"),
        ]);
        assert_eq!(
            AmqpSettings::from_env(&env, &ADMIN).unwrap().url.expose(),
            "amqp://h/%2f?heartbeat=3"
        );
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://h/%2f?frame_max=8192"),
            ("AMQP_HEARTBEAT_SECS", "30"),
        ]);
        assert_eq!(
            AmqpSettings::from_env(&env, &ADMIN).unwrap().url.expose(),
            "amqp://h/%2f?frame_max=8192&heartbeat=30"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://u:topsecret@h"),
            ("SQL_PASSWORD", "pw-secret"),
        ]);
        let s = Settings::from_env(&env, ADMIN).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("topsecret"), "{printed}");
        assert!(!printed.contains("pw-secret"), "{printed}");
    }
}
