//! The `processed_messages` table: the ids of applied messages, recorded in the same
//! transaction as their effect, and purged once redelivery is no longer plausible.

use std::time::Duration;

use std::collections::HashSet;

use sqlx::{MySqlConnection, MySqlPool, QueryBuilder};

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

/// Records every id of `ids` not recorded before, in two statements; returns the ids this
/// call recorded, or `None` when another transaction recorded one of them between the two
/// (the caller rolls back and takes them one at a time).
pub(super) async fn record_many<'a>(
    tx: &mut MySqlConnection,
    ids: &[&'a str],
) -> Result<Option<HashSet<&'a str>>, sqlx::Error> {
    let mut fresh: HashSet<&str> = ids.iter().copied().collect();
    if fresh.is_empty() {
        return Ok(Some(fresh));
    }
    let mut q =
        QueryBuilder::new("SELECT message_id FROM processed_messages WHERE message_id IN (");
    let mut list = q.separated(", ");
    for id in &fresh {
        list.push_bind(*id);
    }
    q.push(")");
    let known: Vec<String> = statement::run(
        "find_processed",
        "SELECT processed_messages",
        q.build_query_scalar().fetch_all(&mut *tx),
    )
    .await?;
    for id in &known {
        fresh.remove(id.as_str());
    }
    if fresh.is_empty() {
        return Ok(Some(fresh));
    }
    let mut q = QueryBuilder::new("INSERT IGNORE INTO processed_messages (message_id) ");
    q.push_values(&fresh, |mut row, id| {
        row.push_bind(*id);
    });
    let done = statement::run(
        "record_processed_batch",
        "INSERT processed_messages",
        q.build().execute(&mut *tx),
    )
    .await?;
    Ok((done.rows_affected() == fresh.len() as u64).then_some(fresh))
}

/// Deletes up to 10,000 records older than `retention`; returns how many went.
pub(crate) async fn purge(pool: &MySqlPool, retention: Duration) -> Result<u64, sqlx::Error> {
    let done = statement::run("purge_processed", "DELETE processed_messages", sqlx::query(
        r#"DELETE FROM processed_messages WHERE processed_at < NOW(6) - INTERVAL ? SECOND LIMIT 10000"#,
    )
    .bind(retention.as_secs())
    .execute(pool)).await?;
    Ok(done.rows_affected())
}
