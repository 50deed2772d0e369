//! Where to connect to MySQL: `DATABASE_URL` or the original's `SQL_*` variables.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};

use crate::config::{ConfigError, Env};
use crate::secrets::DbSecretSource;

/// Where to connect to MySQL.
#[derive(Clone)]
pub struct DatabaseSettings {
    pub options: MySqlConnectOptions,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Create the database at start when it does not exist (HTTP binary only).
    pub create_if_missing: bool,
    /// A connection older than this is closed rather than reused (`DB_MAX_LIFETIME_SECS`).
    pub max_lifetime: Duration,
    /// The secret the credentials come from (`DB_SECRET_ID`), read again when the database
    /// refuses them.
    pub secret: Option<DbSecretSource>,
}

// MySqlConnectOptions' own Debug prints the password.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("user", &self.options.get_username())
            .field("database", &self.database_name())
            .field("ssl_mode", &self.options.get_ssl_mode())
            .field("max_connections", &self.max_connections)
            .field("secret", &self.secret.as_ref().map(|s| &s.id))
            .finish_non_exhaustive()
    }
}

impl DatabaseSettings {
    /// `DATABASE_URL` when set; otherwise the original's `SQL_HOST`, `SQL_PORT`, `SQL_USER`,
    /// `SQL_PASSWORD`, `SQL_DATABASE`.
    pub fn from_env(env: &Env, default_database: &str) -> Result<Self, ConfigError> {
        let options = match env.get("DATABASE_URL") {
            // The URL holds the password: never echo it back.
            Some(url)
                if !(url.trim().starts_with("mysql://")
                    || url.trim().starts_with("mariadb://")) =>
            {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "must start with mysql:// (for example mysql://user:password@host:3306/admin)",
                ));
            }
            Some(url) => MySqlConnectOptions::from_str(url.trim()).map_err(|_| {
                ConfigError::new(
                    "DATABASE_URL",
                    "not a valid MySQL URL (expected mysql://user:password@host:port/database)",
                )
            })?,
            None => {
                let port: u16 = env.parse("SQL_PORT", 3306)?;
                if port == 0 {
                    return Err(ConfigError::new("SQL_PORT", "must be between 1 and 65535"));
                }
                let options = MySqlConnectOptions::new()
                    .host(&env.string("SQL_HOST", "127.0.0.1"))
                    .port(port)
                    .username(&env.string("SQL_USER", "root"))
                    .database(&env.string("SQL_DATABASE", default_database));
                // An empty password would still be sent, and refused by an account that has
                // none; leave it out instead.
                match env.get("SQL_PASSWORD") {
                    Some(password) => options.password(password),
                    None => options,
                }
            }
        };
        let mut options = if options.get_database().is_none() {
            options.database(default_database)
        } else {
            options
        };
        // TLS: `ssl-mode` and `ssl-ca` in DATABASE_URL, or these, which win when set.
        if let Some(mode) = env.get("SQL_SSL_MODE") {
            let mode = MySqlSslMode::from_str(mode.trim()).map_err(|_| {
                ConfigError::new(
                    "SQL_SSL_MODE",
                    format!(
                        "expected disabled, preferred, required, verify_ca or verify_identity (got {mode:?})"
                    ),
                )
            })?;
            options = options.ssl_mode(mode);
        }
        if let Some(path) = env.get("SQL_SSL_CA") {
            let path = path.trim();
            if !std::path::Path::new(path).is_file() {
                return Err(ConfigError::new(
                    "SQL_SSL_CA",
                    format!("{path:?} is not a readable file"),
                ));
            }
            options = options.ssl_ca(path);
        }
        let max_connections: u32 = env.parse("DB_MAX_CONNECTIONS", 10)?;
        if max_connections == 0 {
            return Err(ConfigError::new("DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        Ok(DatabaseSettings {
            options,
            max_connections,
            acquire_timeout: env.millis("DB_ACQUIRE_TIMEOUT_MS", 5_000, 1)?,
            create_if_missing: env.bool("DB_CREATE_IF_MISSING", true)?,
            max_lifetime: Duration::from_secs(env.parse("DB_MAX_LIFETIME_SECS", 1800)?.max(1)),
            secret: None,
        })
    }

    pub fn database_name(&self) -> &str {
        self.options.get_database().unwrap_or_default()
    }
}
