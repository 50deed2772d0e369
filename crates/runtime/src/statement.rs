//! Every database statement of the services runs through [`run`] (and every commit through
//! [`commit`]): a client span after OpenTelemetry's database conventions and a sample of
//! `db_query_duration_seconds{query}`, so that a trace shows each statement and a
//! dashboard each query's latency.
//!
//! A statement outside any span (the relay polling the outbox, a purge) is timed but gets
//! no span: it would be a trace of its own every few milliseconds, and tell nothing.
//!
//! Spans carry the statement's name and a low-cardinality summary (`SELECT products`),
//! never its parameters: no product text, shopper id or other user data leaves in a span.

use std::time::Instant;

use sqlx::{MySql, Transaction};
use tracing::Instrument;

use crate::metrics::catalog::DB_QUERY_DURATION;

/// Runs `statement`, named `query` (the metric's label) and summarised as `summary`
/// (`"<OPERATION> <table>"`, the span's name), in a database client span.
pub async fn run<T>(
    query: &'static str,
    summary: &'static str,
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    let start = Instant::now();
    if tracing::Span::current().is_none() {
        let result = statement.await;
        DB_QUERY_DURATION.record([query], start.elapsed().as_secs_f64());
        return result;
    }
    let (operation, table) = summary.split_once(' ').unwrap_or((summary, ""));
    let span = tracing::info_span!(
        "db",
        otel.name = summary,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        db.system.name = "mariadb",
        db.operation.name = operation,
        db.collection.name = table,
        db.query.summary = summary,
        code.function.name = query,
        error.type = tracing::field::Empty,
    );
    let result = statement.instrument(span.clone()).await;
    DB_QUERY_DURATION.record([query], start.elapsed().as_secs_f64());
    if let Err(e) = &result {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", error_type(e));
    }
    result
}

/// Commits `tx` in a span of its own (`COMMIT`, query name `commit`).
pub async fn commit(tx: Transaction<'_, MySql>) -> Result<(), sqlx::Error> {
    run("commit", "COMMIT", tx.commit()).await
}

/// A short, bounded description of a database error for `error.type`.
fn error_type(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Database(db) => match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => "unique_violation",
            sqlx::error::ErrorKind::ForeignKeyViolation => "foreign_key_violation",
            _ => "database",
        },
        sqlx::Error::PoolTimedOut => "pool_timed_out",
        sqlx::Error::Io(_) => "io",
        sqlx::Error::RowNotFound => "row_not_found",
        _ => "other",
    }
}
