//! The `processed_messages` table: the ids of applied messages, recorded in the same
//! transaction as their effect, and purged once redelivery is no longer plausible.

use std::time::Duration;

use sqlx::{MySqlConnection, MySqlPool};

use crate::statement;

/// Records `message_id` as processed; `false` when it was recorded before (a redelivery).
pub(super) async fn record(
    tx: &mut MySqlConnection,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "record_processed",
        "INSERT processed_messages",
        sqlx::query(r#"INSERT IGNORE INTO processed_messages (message_id) VALUES (?)"#)
            .bind(message_id)
            .execute(tx),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes up to 10,000 records older than `retention`; returns how many went.
pub(super) async fn purge(pool: &MySqlPool, retention: Duration) -> Result<u64, sqlx::Error> {
    let done = statement::run("purge_processed", "DELETE processed_messages", sqlx::query(
        r#"DELETE FROM processed_messages WHERE processed_at < NOW(6) - INTERVAL ? SECOND LIMIT 10000"#,
    )
    .bind(retention.as_secs())
    .execute(pool)).await?;
    Ok(done.rows_affected())
}
