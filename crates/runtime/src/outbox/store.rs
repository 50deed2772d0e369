//! The `outbox` table: rows written with the change that caused them, read in id order by
//! the relay, marked once the broker confirmed them, purged after their retention.

use std::time::Duration;

use events::{OutgoingMessage, TraceContext};
use sqlx::{MySqlConnection, MySqlPool, QueryBuilder};

use crate::statement;

/// Writes `message` to the outbox on the caller's transaction.
pub async fn enqueue(
    tx: &mut MySqlConnection,
    message: &OutgoingMessage,
) -> Result<(), sqlx::Error> {
    let (traceparent, tracestate) = match &message.trace {
        Some(t) => (Some(t.traceparent()), t.tracestate()),
        None => (None, None),
    };
    statement::run(
        "enqueue_outbox",
        "INSERT outbox",
        sqlx::query(
            r#"INSERT INTO outbox (message_id, content_type, body, traceparent, tracestate)
           VALUES (?, ?, ?, ?, ?)"#,
        )
        .bind(&message.message_id)
        .bind(&message.content_type)
        .bind(&message.body)
        .bind(traceparent)
        .bind(tracestate)
        .execute(tx),
    )
    .await?;
    Ok(())
}

/// A row not yet published.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct PendingRow {
    pub id: u64,
    pub message_id: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    /// When the row was committed, in microseconds since the epoch (for the delivery lag).
    pub created_us: u64,
}

impl PendingRow {
    /// The message as it was enqueued.
    pub fn message(&self) -> OutgoingMessage {
        OutgoingMessage {
            message_id: self.message_id.clone(),
            content_type: self.content_type.clone(),
            body: self.body.clone(),
            trace: self.trace(),
        }
    }

    /// The trace context of the request that wrote the row.
    pub fn trace(&self) -> Option<TraceContext> {
        self.traceparent
            .as_deref()
            .and_then(|tp| TraceContext::new(tp, self.tracestate.as_deref()).ok())
    }
}

/// The first `limit` pending rows, oldest first.
pub(super) async fn fetch_pending(
    pool: &MySqlPool,
    limit: u32,
) -> Result<Vec<PendingRow>, sqlx::Error> {
    statement::run(
        "fetch_outbox_pending",
        "SELECT outbox",
        sqlx::query_as(
            r#"SELECT id, message_id, content_type, body, traceparent, tracestate,
                  CAST(UNIX_TIMESTAMP(created_at) * 1000000 AS UNSIGNED) AS created_us
           FROM outbox
           WHERE published_at IS NULL
           ORDER BY id
           LIMIT ?"#,
        )
        .bind(limit)
        .fetch_all(pool),
    )
    .await
}

/// Marks the rows `ids` published, now.
pub(super) async fn mark_published(pool: &MySqlPool, ids: &[u64]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::new("UPDATE outbox SET published_at = NOW(6) WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    statement::run(
        "mark_outbox_published",
        "UPDATE outbox",
        q.build().execute(pool),
    )
    .await?;
    Ok(())
}

/// Rows not yet published.
pub async fn pending_count(pool: &MySqlPool) -> Result<i64, sqlx::Error> {
    statement::run(
        "count_outbox_pending",
        "SELECT outbox",
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(pool),
    )
    .await
}

/// Rows not yet published, and how long the oldest of them has waited.
pub(super) async fn backlog(pool: &MySqlPool) -> Result<(i64, Duration), sqlx::Error> {
    let (count, age_us): (i64, i64) = statement::run(
        "outbox_backlog",
        "SELECT outbox",
        sqlx::query_as(
            r#"SELECT COUNT(*),
                      COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)), 0)
               FROM outbox WHERE published_at IS NULL"#,
        )
        .fetch_one(pool),
    )
    .await?;
    Ok((count, Duration::from_micros(age_us.max(0) as u64)))
}

/// Deletes up to 10,000 rows published more than `older_than` ago; returns how many went.
pub(super) async fn purge_published(
    pool: &MySqlPool,
    older_than: Duration,
) -> Result<u64, sqlx::Error> {
    let done = statement::run(
        "purge_outbox",
        "DELETE outbox",
        sqlx::query(
            r#"DELETE FROM outbox
           WHERE published_at IS NOT NULL AND published_at < NOW(6) - INTERVAL ? SECOND
           LIMIT 10000"#,
        )
        .bind(older_than.as_secs())
        .execute(pool),
    )
    .await?;
    Ok(done.rows_affected())
}
