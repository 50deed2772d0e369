//! Retention: admin-consumer deletes audit records older than `AUDIT_RETENTION_DAYS`
//! (default 365; `0` keeps them forever), hourly, the first time shortly after it starts,
//! 1,000 rows per transaction until none is left. admin-api's database user cannot delete
//! them (scripts/grants.sql); admin-consumer's can.

use std::time::Duration;

use futures_util::future::BoxFuture;
use shop_runtime::settings::DatabaseSettings;
use shop_runtime::{ConfigError, Env, statement};
use sqlx::MySqlPool;

use super::AuditLog;

/// Rows per transaction.
pub const BATCH: u64 = 1000;

/// How long records are kept: `None` forever (`AUDIT_RETENTION_DAYS=0`);
/// `AUDIT_RETENTION_SECS`, when set, in its place (for a soak: at least 60).
pub fn retention_from_env(env: &Env) -> Result<Option<Duration>, ConfigError> {
    if let Some(secs) = shop_runtime::settings::retention_secs(env, "AUDIT_RETENTION_SECS", 60)? {
        return Ok(Some(secs));
    }
    let days: u64 = env.parse("AUDIT_RETENTION_DAYS", 365)?;
    if days > 36_500 {
        return Err(ConfigError::new(
            "AUDIT_RETENTION_DAYS",
            "must be at most 36500 (0 keeps records forever)",
        ));
    }
    Ok((days > 0).then(|| Duration::from_secs(days * 86_400)))
}

/// Deletes the records of `database`'s audit log older than `older_than`, [`BATCH`] rows a
/// transaction, until none is left; returns how many went.
pub fn purge_audit<'a>(
    pool: &'a MySqlPool,
    log: &'a AuditLog,
    older_than: Duration,
) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
    let sql = format!(
        "DELETE FROM {} WHERE at < NOW(6) - INTERVAL ? SECOND ORDER BY at LIMIT {BATCH}",
        log.table()
    );
    Box::pin(async move {
        let mut total = 0;
        loop {
            // One statement is one transaction (autocommit).
            let done = statement::run(
                "purge_audit",
                "DELETE audit_log",
                sqlx::query(&sql).bind(older_than.as_secs()).execute(pool),
            )
            .await?;
            total += done.rows_affected();
            if done.rows_affected() < BATCH {
                return Ok(total);
            }
        }
    })
}

/// Purges `log` every `interval` (hourly by default), the first time after `first`, until
/// `stop` resolves. Each run
/// connects on its own (`database`: the consumer's settings, so a rotated password is read
/// again from its secret) and closes its connection when done: no connection is held
/// between runs, and a database that is down delays nothing but that run (tried again an
/// hour later).
pub async fn purge_hourly(
    mut database: DatabaseSettings,
    log: AuditLog,
    older_than: Duration,
    (first, interval): (Duration, Duration),
    stop: impl Future<Output = ()>,
) {
    database.create_if_missing = false;
    database.max_connections = 1;
    let work = async {
        tokio::time::sleep(first).await;
        loop {
            match shop_runtime::db::connect(&database, Duration::from_secs(30)).await {
                Ok(pool) => {
                    let purged = purge_audit(&pool, &log, older_than).await;
                    shop_runtime::metrics::purged("audit", &purged);
                    match purged {
                        Ok(rows) => tracing::info!(rows, "purged old audit records"),
                        Err(e) => tracing::warn!(error = %e, "audit record purge failed"),
                    }
                    pool.close().await;
                }
                Err(e) => {
                    shop_runtime::metrics::purged::<()>("audit", &Err(()));
                    tracing::warn!(error = %e, "no database for the audit record purge");
                }
            }
            tokio::time::sleep(interval).await;
        }
    };
    tokio::select! {
        () = stop => {}
        () = work => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_in_days_and_zero_keeps_forever() {
        assert_eq!(
            retention_from_env(&Env::default()).unwrap(),
            Some(Duration::from_secs(365 * 86_400))
        );
        let env = Env::from_pairs([("AUDIT_RETENTION_DAYS", "0")]);
        assert_eq!(retention_from_env(&env).unwrap(), None);
        for bad in ["-1", "a year", "36501"] {
            let env = Env::from_pairs([("AUDIT_RETENTION_DAYS", bad)]);
            assert_eq!(
                retention_from_env(&env).unwrap_err().name,
                "AUDIT_RETENTION_DAYS"
            );
        }
        // In seconds for a soak, in place of the days; at least a minute.
        let env = Env::from_pairs([
            ("AUDIT_RETENTION_DAYS", "0"),
            ("AUDIT_RETENTION_SECS", "60"),
        ]);
        assert_eq!(
            retention_from_env(&env).unwrap(),
            Some(Duration::from_secs(60))
        );
        let env = Env::from_pairs([("AUDIT_RETENTION_SECS", "59")]);
        assert_eq!(
            retention_from_env(&env).unwrap_err().name,
            "AUDIT_RETENTION_SECS"
        );
    }
}
