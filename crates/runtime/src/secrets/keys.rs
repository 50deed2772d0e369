//! What a secret holds: the original's database keys (`username`, `password`, `host`, `port`,
//! `dbname`) and the broker's `amqp_url`, checked without ever quoting a value.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sqlx::mysql::MySqlConnectOptions;

use crate::config::{ConfigError, Env, Secret};

/// The database keys of a secret. `username` and `password` are required; `host`, `port` and
/// `dbname` are optional (an RDS-managed secret holds only the first two), and what the
/// secret leaves out comes from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct DbSecret {
    pub username: String,
    pub password: Secret<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dbname: Option<String>,
}

/// Keys of the secrets whose value in the environment wins over the secret's
/// (`SECRET_OVERRIDES=host,port`): the operator's explicit say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides(BTreeSet<&'static str>);

/// Every key an override may name.
const KEYS: [&str; 6] = ["username", "password", "host", "port", "dbname", "amqp_url"];

impl Overrides {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut keys = BTreeSet::new();
        for raw in env.string("SECRET_OVERRIDES", "").split(',') {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let Some(key) = KEYS.iter().find(|k| **k == raw) else {
                return Err(ConfigError::new(
                    "SECRET_OVERRIDES",
                    format!("unknown key {raw:?}; the keys are {}", KEYS.join(", ")),
                ));
            };
            keys.insert(*key);
        }
        Ok(Overrides(keys))
    }

    /// Whether the environment's value of `key` wins.
    pub fn env_wins(&self, key: &str) -> bool {
        self.0.contains(key)
    }
}

/// A secret that is there but unusable: a configuration error, never a reason to fall back.
/// `var` is the variable that named the secret.
fn malformed(var: &str, id: &str, what: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(var, format!("secret {id:?}: {what}"))
}

/// The secret's text as a JSON object. A parser's message can quote the text, so it is
/// never passed on.
fn object(var: &str, id: &str, text: &str) -> Result<Map<String, Value>, ConfigError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed(
            var,
            id,
            "is not a JSON object (expected {\"username\": …, \"password\": …, …})",
        )),
    }
}

/// A string key: `Ok(None)` when absent (or null), an error naming the key when it is
/// anything but a non-empty string.
fn string(
    var: &str,
    id: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(malformed(
            var,
            id,
            format_args!("key {key:?} is not a non-empty string"),
        )),
    }
}

fn required(
    var: &str,
    id: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<String, ConfigError> {
    string(var, id, map, key)?
        .ok_or_else(|| malformed(var, id, format_args!("key {key:?} is missing")))
}

impl DbSecret {
    /// Reads the database keys of secret `id` (named by variable `var`) from its text.
    pub fn parse(var: &str, id: &str, text: &str) -> Result<Self, ConfigError> {
        let map = object(var, id, text)?;
        // RDS writes the port as a number; people write it as a string too.
        let port = match map.get("port") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_u64()),
            Some(Value::String(s)) => Some(s.trim().parse::<u64>().ok()),
            Some(_) => Some(None),
        };
        let port = match port {
            None => None,
            Some(Some(p)) if (1..=65_535).contains(&p) => Some(p as u16),
            Some(_) => {
                return Err(malformed(
                    var,
                    id,
                    "key \"port\" is not a port number (1 to 65535)",
                ));
            }
        };
        Ok(DbSecret {
            username: required(var, id, &map, "username")?,
            password: Secret::new(required(var, id, &map, "password")?),
            host: string(var, id, &map, "host")?,
            port,
            dbname: string(var, id, &map, "dbname")?,
        })
    }

    /// `options` with this secret's values, except for the keys the operator overrides.
    pub fn apply(
        &self,
        options: MySqlConnectOptions,
        overrides: &Overrides,
    ) -> MySqlConnectOptions {
        let mut options = options;
        if !overrides.env_wins("username") {
            options = options.username(&self.username);
        }
        if !overrides.env_wins("password") {
            options = options.password(self.password.expose());
        }
        if let Some(host) = self.host.as_deref().filter(|_| !overrides.env_wins("host")) {
            options = options.host(host);
        }
        if let Some(port) = self.port.filter(|_| !overrides.env_wins("port")) {
            options = options.port(port);
        }
        if let Some(db) = self
            .dbname
            .as_deref()
            .filter(|_| !overrides.env_wins("dbname"))
        {
            options = options.database(db);
        }
        options
    }
}

impl std::fmt::Debug for DbSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSecret")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .finish()
    }
}

/// The broker URL of secret `id` (named by variable `var`): its required key `amqp_url`.
pub fn amqp_url(var: &str, id: &str, text: &str) -> Result<Secret<String>, ConfigError> {
    let map = object(var, id, text)?;
    Ok(Secret::new(required(var, id, &map, "amqp_url")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "pw-that-must-not-print";

    #[test]
    fn the_originals_keys_are_read_and_the_port_may_be_a_string() {
        let s = DbSecret::parse(
            "DB_SECRET_ID",
            "s",
            &format!(
                r#"{{"username":"shop","password":"{VALUE}","host":"db","port":"3307","dbname":"admin","engine":"mysql"}}"#
            ),
        )
        .unwrap();
        assert_eq!(s.username, "shop");
        assert_eq!(s.port, Some(3307));
        assert_eq!(s.dbname.as_deref(), Some("admin"));
        assert!(!format!("{s:?}").contains(VALUE));
        let only_credentials = format!(r#"{{"username":"u","password":"{VALUE}"}}"#);
        let s = DbSecret::parse("DB_SECRET_ID", "s", &only_credentials).unwrap();
        assert_eq!((s.host, s.port, s.dbname), (None, None, None));
    }

    #[test]
    fn malformed_secrets_name_the_secret_and_the_key_never_the_value() {
        for (text, key) in [
            (format!("not json {VALUE}"), "JSON object"),
            (format!(r#"["{VALUE}"]"#), "JSON object"),
            (
                format!(r#"{{"password":"{VALUE}"}}"#),
                "\"username\" is missing",
            ),
            (r#"{"username":"u"}"#.to_owned(), "\"password\" is missing"),
            (
                format!(r#"{{"username":"u","password":"{VALUE}","port":"{VALUE}"}}"#),
                "\"port\"",
            ),
            (
                format!(r#"{{"username":"u","password":"{VALUE}","port":0}}"#),
                "\"port\"",
            ),
            (
                format!(r#"{{"username":"u","password":"{VALUE}","port":3306.5}}"#),
                "\"port\"",
            ),
            (
                format!(r#"{{"username":"u","password":7,"host":"{VALUE}"}}"#),
                "\"password\"",
            ),
        ] {
            let err = DbSecret::parse("DB_SECRET_ID", "my-secret", &text).unwrap_err();
            let msg = err.to_string();
            assert_eq!(err.name, "DB_SECRET_ID");
            assert!(msg.contains("\"my-secret\""), "{msg}");
            assert!(msg.contains(key), "{msg} should name {key}");
            assert!(!msg.contains(VALUE), "{msg}");
        }
        let err = amqp_url("AMQP_SECRET_ID", "b", r#"{"url":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("\"amqp_url\" is missing"), "{err}");
    }

    #[test]
    fn the_secret_wins_except_where_the_operator_says_otherwise() {
        let s = DbSecret::parse(
            "DB_SECRET_ID",
            "s",
            r#"{"username":"shop","password":"p","host":"db.internal","port":3307}"#,
        )
        .unwrap();
        let env = MySqlConnectOptions::new()
            .host("127.0.0.1")
            .port(3306)
            .database("admin");
        let applied = s.apply(env.clone(), &Overrides::default());
        assert_eq!(applied.get_host(), "db.internal");
        assert_eq!(applied.get_port(), 3307);
        assert_eq!(applied.get_username(), "shop");
        // A key the secret leaves out keeps the environment's value.
        assert_eq!(applied.get_database(), Some("admin"));
        let overrides =
            Overrides::from_env(&Env::from_pairs([("SECRET_OVERRIDES", "host, port")])).unwrap();
        let applied = s.apply(env, &overrides);
        assert_eq!(
            (applied.get_host(), applied.get_port()),
            ("127.0.0.1", 3306)
        );
        assert_eq!(applied.get_username(), "shop");
        let err =
            Overrides::from_env(&Env::from_pairs([("SECRET_OVERRIDES", "hots")])).unwrap_err();
        assert_eq!(err.name, "SECRET_OVERRIDES");
    }
}
