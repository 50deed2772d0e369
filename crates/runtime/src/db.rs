//! The MySQL pool: one per process, never one per request.
//!
//! A connection goes back to the pool only in a known state: `release_check` runs on
//! every release, rolls back a transaction left open on it and closes a connection that does
//! not answer at once. Work on the request path runs to completion whatever the client does
//! (`http::with_middleware`); the check is the second line, for any future dropped half way.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, MySqlConnection};

use crate::backoff::Backoff;
use crate::metrics::catalog;
use crate::secrets::{DbSecret, DbSecretSource};
use crate::settings::DatabaseSettings;

/// Opens the pool, retrying with backoff until `patience` runs out, so that a service
/// started before its database (as `docker compose up` may do) waits instead of dying.
/// With credentials from a secret, a refused login reads the secret again (it may have
/// been rotated since the process read it) and the pool follows every later rotation
/// ([`watch_credentials`]).
pub async fn connect(settings: &DatabaseSettings, patience: Duration) -> anyhow::Result<MySqlPool> {
    let deadline = Instant::now() + patience;
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut options = settings.options.clone();
    let mut source = settings.secret.clone();
    let mut reread = false;
    loop {
        let attempt = async {
            if settings.create_if_missing {
                create_database_if_missing(&options).await?;
            }
            pool_options(settings).connect_with(options.clone()).await
        };
        match attempt.await {
            Ok(pool) => {
                if let Some(source) = source {
                    tokio::spawn(watch_credentials(pool.clone(), source));
                }
                return Ok(pool);
            }
            Err(e) if is_access_denied(&e) && !reread && source.is_some() => {
                reread = true;
                if let Some(source) = &mut source
                    && let Ok(secret) = source.read().await
                {
                    options = secret.apply(options, &source.overrides);
                    tracing::warn!(secret = %source.id,
                        "the database refused the credentials; read the secret again");
                    source.applied = Some(secret);
                }
            }
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
                    options.get_host(),
                    options.get_port()
                )));
            }
        }
    }
}

/// Wakes [`watch_credentials`]: some query was refused for its credentials.
static REFUSED: LazyLock<tokio::sync::Notify> = LazyLock::new(tokio::sync::Notify::new);

/// Reports a database error; a refused login (a rotated password) makes the process read
/// its secret again. Called wherever database errors surface: HTTP handlers' errors, the
/// consumer's retries, the relay, health checks.
pub fn note_error(e: &sqlx::Error) {
    if is_access_denied(e) {
        REFUSED.notify_one();
    }
}

/// MySQL error 1045 (access denied: wrong user or password) or 1044 (no access to the
/// database).
pub fn is_access_denied(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|d| matches!(d.number(), 1044 | 1045))
}

/// The least time between two reads of the secret, however many queries are refused.
const REREAD_INTERVAL: Duration = Duration::from_secs(1);

/// Until the pool closes: each time the database refuses the credentials, reads the secret
/// again and, when it holds new ones, gives them to the pool for its next connections
/// (open ones stay as they are: a password change does not end them). Logged, and counted
/// in `db_credential_reloads_total`.
pub async fn watch_credentials(pool: MySqlPool, source: DbSecretSource) {
    let mut applied: Option<DbSecret> = source.applied.clone();
    loop {
        tokio::select! {
            () = pool.close_event() => return,
            () = REFUSED.notified() => {}
        }
        let outcome = match source.read().await {
            Err(reason) => {
                tracing::warn!(secret = %source.id, %reason,
                    "the database refused the credentials and the secret cannot be read");
                "failed"
            }
            Ok(secret) if applied.as_ref() == Some(&secret) => {
                tracing::warn!(secret = %source.id,
                    "the database refused the credentials; the secret holds no new ones");
                "unchanged"
            }
            Ok(secret) => {
                let options = secret.apply((*pool.connect_options()).clone(), &source.overrides);
                pool.set_connect_options(options);
                tracing::info!(secret = %source.id, user = %secret.username,
                    "the database refused the credentials; reconnecting with the secret's new ones");
                applied = Some(secret);
                "changed"
            }
        };
        catalog::DB_CREDENTIAL_RELOADS.increment([outcome]);
        tokio::select! {
            () = pool.close_event() => return,
            () = tokio::time::sleep(REREAD_INTERVAL) => {}
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

/// MySQL error 1213: InnoDB chose this transaction as a deadlock's victim and rolled it
/// back; running it again is the cure.
pub fn is_deadlock(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|d| d.number() == 1213)
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
        .max_lifetime(settings.max_lifetime)
        // Every connection is checked when it comes back (release_check), so one in steady
        // use needs no second look on the way out; one that sat idle for a while may have
        // died with a database restart, and is pinged first (a dead one is replaced, not
        // handed out). This keeps a request at three round trips: its query, the release
        // check and sqlx's own release ping.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_release(|conn, _| release_check(conn))
}

/// How long a connection may sit in the pool before it is pinged on its way out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// How long a released connection may take to answer [`release_check`] before it is closed.
/// A healthy one answers in well under a millisecond.
const RELEASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a connection that comes back to the pool may be handed out again.
///
/// sqlx's own release test (a ping, with no time limit) cannot see a transaction the server
/// still holds open, and waits forever on a connection that expects a reply that will never
/// come. Here, within [`RELEASE_CHECK_TIMEOUT`]: a transaction still open is rolled back
/// (and counted); a connection that errs or does not answer is counted and closed without
/// ceremony (an error here makes sqlx drop the socket and log the reason).
fn release_check(conn: &mut MySqlConnection) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        let failure =
            match tokio::time::timeout(RELEASE_CHECK_TIMEOUT, end_open_transaction(conn)).await {
                Ok(Ok(())) => return Ok(true),
                Ok(Err(e)) => ("error", e),
                Err(_) => (
                    "unresponsive",
                    sqlx::Error::Protocol(format!(
                        "release check: no answer within {RELEASE_CHECK_TIMEOUT:?}"
                    )),
                ),
            };
        catalog::DB_CONNECTIONS_DISCARDED.increment([failure.0]);
        Err(failure.1)
    })
}

/// Rolls back a transaction still open on `conn`, counting it. The check's answer must echo
/// a number of its own: a connection left out of step by a query dropped half way would
/// answer with a stale reply to an earlier query, and is reported as an error.
async fn end_open_transaction(conn: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    static CHECKS: AtomicI64 = AtomicI64::new(0);
    let nonce = CHECKS.fetch_add(1, Ordering::Relaxed);
    // A prepared statement, cached per connection: the server parses it once.
    let answer: Result<(i64, u64), _> = sqlx::query_as("SELECT ?, @@in_transaction")
        .bind(nonce)
        .fetch_one(&mut *conn)
        .await;
    let open = match answer {
        Ok((echo, open)) => {
            if echo != nonce {
                return Err(sqlx::Error::Protocol(
                    "release check: the connection answered out of step".into(),
                ));
            }
            open != 0
        }
        // MySQL has no @@in_transaction (MariaDB does): roll back whatever there is.
        Err(e) if is_unknown_variable(&e) => {
            conn.execute("ROLLBACK").await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if open {
        conn.execute("ROLLBACK").await?;
        catalog::DB_TRANSACTIONS_ROLLED_BACK.increment(["abandoned"]);
        tracing::warn!("a connection came back to the pool inside a transaction; rolled back");
    }
    Ok(())
}

/// MySQL error 1193: unknown system variable.
fn is_unknown_variable(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|d| d.number() == 1193)
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

/// Pings the database with a bound on the wait. The query runs in its own task: the time
/// limit gives up waiting for it, never cancels it half way.
pub async fn ping(pool: &MySqlPool, timeout: Duration) -> Result<(), String> {
    let pool = pool.clone();
    let query = tokio::spawn(async move { sqlx::query("SELECT 1").execute(&pool).await });
    match tokio::time::timeout(timeout, query).await {
        Ok(Ok(Ok(_))) => Ok(()),
        Ok(Ok(Err(e))) => {
            note_error(&e);
            Err(e.to_string())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

/// Closes the pool, waiting at most `patience` for checked-out connections to come back, so
/// that a stop is never held up by one that does not.
pub async fn close(pool: &MySqlPool, patience: Duration) {
    if tokio::time::timeout(patience, pool.close()).await.is_err() {
        let in_use = pool.size() as usize - pool.num_idle();
        tracing::warn!(
            in_use,
            patience_ms = patience.as_millis() as u64,
            "database connections still in use at shutdown; not waiting for them"
        );
    }
}
