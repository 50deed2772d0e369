//! The MySQL pool: one per process, never one per request.

use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection, MySqlConnection};

use crate::backoff::Backoff;
use crate::settings::DatabaseSettings;

/// Opens the pool, retrying with backoff until `patience` runs out, so that a service
/// started before its database (as `docker compose up` may do) waits instead of dying.
pub async fn connect(settings: &DatabaseSettings, patience: Duration) -> anyhow::Result<MySqlPool> {
    let deadline = Instant::now() + patience;
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        let attempt = async {
            if settings.create_if_missing {
                create_database_if_missing(&settings.options).await?;
            }
            pool_options(settings)
                .connect_with(settings.options.clone())
                .await
        };
        match attempt.await {
            Ok(pool) => return Ok(pool),
            // Only what can pass by itself is retried: a refused login or a missing
            // database fails at once, with the database's own message.
            Err(e)
                if (is_transient(&e) || is_unknown_database(&e)) && Instant::now() < deadline =>
            {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64,
                    database = settings.database_name(), "database not reachable yet");
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot connect to database {:?} at {}:{}",
                    settings.database_name(),
                    settings.options.get_host(),
                    settings.options.get_port()
                )));
            }
        }
    }
}

/// Errors of a database that is not (yet) reachable, as opposed to one that said no.
pub fn is_transient(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
    )
}

/// MySQL error 1049: the database does not exist (yet: the API creates it at start).
pub fn is_unknown_database(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|d| d.number() == 1049)
}

fn pool_options(settings: &DatabaseSettings) -> MySqlPoolOptions {
    MySqlPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // A connection that died while the database restarted is replaced, not handed out.
        .test_before_acquire(true)
}

/// `CREATE DATABASE IF NOT EXISTS` for the configured database, connected without one.
pub async fn create_database_if_missing(options: &MySqlConnectOptions) -> Result<(), sqlx::Error> {
    let Some(name) = options.get_database() else {
        return Ok(());
    };
    let server = options.clone().database("");
    let mut conn: MySqlConnection = server.connect().await?;
    // Identifiers cannot be bound; quote it, doubling any backtick.
    let sql = format!(
        "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        name.replace('`', "``")
    );
    let result = sqlx::raw_sql(&sql).execute(&mut conn).await;
    let _ = conn.close().await;
    match result {
        Ok(_) => Ok(()),
        // Without the right to create databases, the database may still exist: let the
        // pool's own connect say whether it does.
        Err(e) => {
            tracing::warn!(error = %e, database = name, "could not create database");
            Ok(())
        }
    }
}

/// Pings the database with a bound on the wait.
pub async fn ping(pool: &MySqlPool, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(pool)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}
