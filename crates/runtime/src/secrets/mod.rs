//! Credentials from AWS Secrets Manager.
//!
//! `DB_SECRET_ID` names a secret with the original's keys (`username`, `password`, and
//! optionally `host`, `port`, `dbname`); `AMQP_SECRET_ID` a secret with the key `amqp_url`
//! (it may be the same secret: it is read once). Precedence, per key: the secret's value,
//! unless `SECRET_OVERRIDES` names the key, then the environment's (`DATABASE_URL` or
//! `SQL_*`, `AMQP_URL`); keys the secret leaves out come from the environment too.
//!
//! A secret that cannot be read (not found, access denied, endpoint unreachable, no answer
//! within `SECRETS_TIMEOUT_MS`) is logged at WARN with its id and the reason, and the
//! environment's values are used. A secret that is read but malformed stops the process
//! with a message naming the secret and the key. No value is ever logged.

mod keys;
mod store;

use std::collections::HashMap;

pub use keys::{DbSecret, Overrides, amqp_url};
pub use store::{ReadError, SecretStore};

use crate::config::{ConfigError, Env, Secret};

/// Where a process's database credentials come from when a secret names them, kept to read
/// the secret again after the database refuses them (a rotated password).
#[derive(Debug, Clone)]
pub struct DbSecretSource {
    pub id: String,
    pub overrides: Overrides,
    pub store: SecretStore,
    /// The version in use, if one was read.
    pub applied: Option<DbSecret>,
}

impl DbSecretSource {
    /// Reads the secret again. A malformed secret is an error here too, never applied.
    pub async fn read(&self) -> Result<DbSecret, String> {
        match self.store.read(&self.id).await {
            Ok(text) => {
                DbSecret::parse("DB_SECRET_ID", &self.id, text.expose()).map_err(|e| e.reason)
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What the secrets the environment names hold, for the settings to take in place of the
/// environment's ([`crate::settings::Settings::use_credentials`]).
#[derive(Debug, Default)]
pub struct Credentials {
    /// `DB_SECRET_ID`'s: the credentials read (`applied`, none when the secret could not be
    /// read and the environment's stay), and where to read them again after a rotation.
    pub database: Option<DbSecretSource>,
    /// `AMQP_SECRET_ID`'s broker URL, unless `SECRET_OVERRIDES` keeps the environment's.
    pub amqp_url: Option<AmqpUrl>,
}

/// A broker URL read from a secret.
#[derive(Debug)]
pub struct AmqpUrl {
    pub secret_id: String,
    pub url: Secret<String>,
}

/// Reads the secrets the environment names (`env` alone decides which, and how long to wait).
pub async fn read(env: &Env) -> Result<Credentials, ConfigError> {
    let mut credentials = Credentials::default();
    let db_id = env.get("DB_SECRET_ID").map(str::trim);
    let amqp_id = env.get("AMQP_SECRET_ID").map(str::trim);
    if db_id.is_none() && amqp_id.is_none() {
        return Ok(credentials);
    }
    let overrides = Overrides::from_env(env)?;
    let timeout = env.millis("SECRETS_TIMEOUT_MS", 5_000, 100)?;
    let store = SecretStore::load(timeout).await;
    let mut read: HashMap<&str, Result<Secret<String>, ReadError>> = HashMap::new();
    for id in [db_id, amqp_id].into_iter().flatten() {
        if !read.contains_key(id) {
            read.insert(id, store.read(id).await);
        }
    }

    if let Some(id) = db_id {
        let mut applied = None;
        if let Some(text) = usable("DB_SECRET_ID", id, &read[id], "DATABASE_URL or SQL_*")? {
            applied = Some(DbSecret::parse("DB_SECRET_ID", id, text.expose())?);
            tracing::info!(
                secret = id,
                "database credentials read from Secrets Manager"
            );
        }
        // Kept even after a fallback: a later refusal reads the secret again.
        credentials.database = Some(DbSecretSource {
            id: id.to_owned(),
            overrides: overrides.clone(),
            store: store.clone(),
            applied,
        });
    }
    if let Some(id) = amqp_id
        && let Some(text) = usable("AMQP_SECRET_ID", id, &read[id], "AMQP_URL")?
    {
        if overrides.env_wins("amqp_url") {
            tracing::info!(secret = id, "AMQP_URL overrides the secret's amqp_url");
        } else {
            credentials.amqp_url = Some(AmqpUrl {
                secret_id: id.to_owned(),
                url: amqp_url("AMQP_SECRET_ID", id, text.expose())?,
            });
            tracing::info!(secret = id, "broker URL read from Secrets Manager");
        }
    }
    Ok(credentials)
}

/// The secret's text when it was read; `None`, after a WARN naming the secret and the
/// reason, when it could not be (the environment is the fallback).
fn usable<'a>(
    var: &str,
    id: &str,
    read: &'a Result<Secret<String>, ReadError>,
    fallback: &str,
) -> Result<Option<&'a Secret<String>>, ConfigError> {
    match read {
        Ok(text) => Ok(Some(text)),
        Err(ReadError::NoText) => Err(ConfigError::new(
            var,
            format!("secret {id:?}: {}", ReadError::NoText),
        )),
        Err(ReadError::Unreadable(reason)) => {
            tracing::warn!(
                secret = id,
                %reason,
                "cannot read the secret; using the environment's settings ({fallback})"
            );
            Ok(None)
        }
    }
}
