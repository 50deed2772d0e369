//! The runtime's migrations as the services apply them, on the real MariaDB: merged with a
//! service's own, applied in any order, waited for by consumers version by version.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shop_runtime::migrations::{self, wait_for_schema};
use sqlx::migrate::Migrator;
use testkit::TestDatabase;
use tokio_util::sync::CancellationToken;
use tracing::instrument::WithSubscriber;

/// A service whose newest migration is newer than every runtime migration.
fn service() -> Migrator {
    sqlx::migrate!("tests/fixtures/later_service_migrations")
}

/// What a task logs, kept for the test to read.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let log = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || log.clone())
            .with_ansi(false)
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn tables(pool: &sqlx::MySqlPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_consumer_waits_for_every_version_not_the_newest() {
    let db = TestDatabase::named("rt_migrations");
    let pool = support::pool(&db, None).await;
    // The service's newest applied, the runtime's older ones not yet.
    service().run(&pool).await.unwrap();
    let all = migrations::with_runtime(service());

    let cancel = CancellationToken::new();
    let log = Log::default();
    let wait =
        tokio::spawn(
            {
                let (pool, cancel) = (pool.clone(), cancel.clone());
                async move {
                    wait_for_schema(&pool, &migrations::with_runtime(service()), &cancel).await
                }
            }
            .with_subscriber(log.subscriber()),
        );
    // The wait looked, found versions missing and said so (or wrongly ended): only then
    // does "still waiting" mean something.
    testkit::eventually(Duration::from_secs(10), "the wait's first look", || async {
        let text = log.text();
        if wait.is_finished() || text.contains("waiting for the API to apply database migrations") {
            Ok(())
        } else {
            Err(text)
        }
    })
    .await;
    assert!(
        !wait.is_finished(),
        "the outbox and processed-message tables are still missing"
    );

    // Older than what is applied, and applied all the same.
    all.run(&pool).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("the wait ends once every version is applied")
        .unwrap()
        .unwrap();
    assert_eq!(
        tables(&pool).await,
        [
            "_sqlx_migrations",
            "cache_versions",
            "outbox",
            "processed_messages",
            "product_search_terms",
            "search_index",
            "widgets"
        ]
    );
    // Applying again changes nothing: the history matches every file.
    all.run(&pool).await.unwrap();
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_consumer_asked_to_stop_while_waiting_for_the_schema_stops() {
    let db = TestDatabase::named("rt_migrations_stop");
    let pool = support::pool(&db, None).await;
    let cancel = CancellationToken::new();
    let all = migrations::with_runtime(service());
    let wait = wait_for_schema(&pool, &all, &cancel);
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(2), wait).await;
    assert!(matches!(result, Ok(Err(_))), "stopped with an error");
    pool.close().await;
    db.drop_database().await;
}

/// Replicas started together on a new database: four processes' worth of pools apply the
/// same migrations at once. Each must succeed, and each migration be applied exactly once.
/// (sqlx's own lock does nothing on MariaDB, so without `migrations::apply`'s one of them
/// fails with a duplicate history row or a "partially applied" migration.)
#[tokio::test]
async fn replicas_migrating_a_new_database_at_once_all_succeed() {
    let db = TestDatabase::named("rt_migrations_race");
    let mut pools = Vec::new();
    for _ in 0..4 {
        pools.push(support::pool(&db, None).await);
    }
    let all = std::sync::Arc::new(migrations::with_runtime(service()));
    let runs: Vec<_> = pools
        .iter()
        .map(|pool| {
            let (pool, all) = (pool.clone(), all.clone());
            tokio::spawn(async move { migrations::apply(&pool, &all).await })
        })
        .collect();
    for run in runs {
        run.await
            .unwrap()
            .expect("every replica's migrations succeed");
    }
    let history: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pools[0])
            .await
            .unwrap();
    let expected: Vec<(i64, bool)> = all.iter().map(|m| (m.version, true)).collect();
    assert_eq!(history, expected, "each migration applied once, whole");
    assert_eq!(
        tables(&pools[0]).await,
        [
            "_sqlx_migrations",
            "cache_versions",
            "outbox",
            "processed_messages",
            "product_search_terms",
            "search_index",
            "widgets"
        ]
    );
    for pool in pools {
        pool.close().await;
    }
    db.drop_database().await;
}

/// `service()` without its own migrations: the release before the one that added them.
fn previous_release() -> Migrator {
    let mut previous = service();
    previous.migrations = std::borrow::Cow::Owned(Vec::new());
    migrations::with_runtime(previous)
}

/// A rolling upgrade, and a rollback: the new release migrated the database, and the
/// previous one (or a replica of it restarting) applies its migrations on that schema. It
/// starts, naming the versions it does not know; sqlx's default refuses it, which is how
/// v0.1.0's APIs behave (docs/operating/upgrades.md). An edited migration is still refused.
#[tokio::test]
async fn a_previous_release_migrates_a_schema_a_newer_one_migrated() {
    let db = TestDatabase::named("rt_migrations_newer");
    let pool = support::pool(&db, None).await;
    migrations::apply(&pool, &migrations::with_runtime(service()))
        .await
        .unwrap();

    let log = Log::default();
    let previous = previous_release();
    migrations::apply(&pool, &previous)
        .with_subscriber(log.subscriber())
        .await
        .expect("the previous release runs on the newer schema");
    let text = log.text();
    assert!(
        text.contains("WARN") && text.contains("20991231000000"),
        "the unknown version is named: {text}"
    );
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(
        migrations::unknown_versions(&mut conn, &previous)
            .await
            .unwrap(),
        [20991231000000]
    );
    drop(conn);

    let mut strict = previous_release();
    strict.set_ignore_missing(false);
    let refused = migrations::apply(&pool, &strict).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("previously applied but is missing"),
        "sqlx's default, v0.1.0's behaviour: {refused}"
    );

    let mut edited = service();
    let mut files = edited.migrations.to_vec();
    files[0] = sqlx::migrate::Migration::new(
        files[0].version,
        files[0].description.clone(),
        files[0].migration_type,
        std::borrow::Cow::Borrowed("SELECT 1"),
        false,
    );
    edited.migrations = std::borrow::Cow::Owned(files);
    let refused = migrations::apply(&pool, &migrations::with_runtime(edited))
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("modified"),
        "an edited migration is refused: {refused}"
    );

    let mut conn = pool.acquire().await.unwrap();
    assert!(
        migrations::unknown_versions(&mut conn, &migrations::with_runtime(service()))
            .await
            .unwrap()
            .is_empty()
    );
    drop(conn);
    pool.close().await;
    db.drop_database().await;
}
