//! The runtime's own tables, defined once for both services: `outbox` (written by
//! [`crate::outbox::enqueue`], read by the relay), `processed_messages` (written and
//! purged by the consumer) and `cache_versions` (bumped by writers, read by the lists'
//! version check, [`crate::lists::feed`]). Their migrations live in `crates/runtime/migrations/`.
//!
//! # How a service applies them
//!
//! Each service builds one migrator from its own migrations and these ([`with_runtime`]),
//! and runs it where it always ran its own: the API's `migrate` command and start-up
//! ([`crate::service`]), and `#[sqlx::test(migrator = …)]`. Consumers, which never run DDL,
//! wait for that same migrator's every version ([`wait_for_schema`]).
//!
//! # One migrations table, versions that cannot clash
//!
//! sqlx 0.8 keeps its history in a fixed table, `_sqlx_migrations`, so the runtime's
//! migrations share it with the service's rather than having a table of their own. This is
//! also what keeps databases migrated before the move working: these files were the
//! services' `…000003_create_outbox.sql` and `…000004_create_processed_messages.sql`,
//! byte-identical in both, and they keep their versions and their bytes, so the rows
//! `_sqlx_migrations` already holds for them (version and SHA-384 checksum) match and
//! nothing is applied twice. Never edit an applied migration: add a new one.
//!
//! Versions are timestamps (`YYYYMMDDhhmmss`), unique across the runtime and both services;
//! [`with_runtime`] refuses a service migration that reuses a runtime version, and sqlx
//! applies a runtime migration older than a service's newest in its turn (it applies every
//! version it has not recorded, in version order).
//!
//! # A schema newer than the binary
//!
//! During a rolling upgrade the new release migrates the database while the previous
//! release's replicas still serve, and a rollback starts the previous release again on the
//! migrated schema (docs/operating/upgrades.md). sqlx refuses that by default: a version in
//! `_sqlx_migrations` that the binary does not know is `VersionMissing` ("migration … was
//! previously applied but is missing in the resolved migrations"), and v0.1.0's APIs exit
//! on it at start. So [`with_runtime`] ignores applied versions it does not know and
//! [`apply`] names them in a WARN line: migrations are expand-then-contract, so a release's
//! queries keep working on the next release's schema. A known version whose file changed
//! is still refused (`VersionMismatch`): that is an edited migration, never a newer one.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::MySqlPool;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use tokio_util::sync::CancellationToken;

/// The runtime's migrations alone (the outbox and processed-message tables).
pub static RUNTIME: Migrator = sqlx::migrate!("./migrations");

/// A list of migrations already in memory.
#[derive(Debug)]
struct Listed(Vec<Migration>);

impl<'s> MigrationSource<'s> for Listed {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

/// A service's migrator: its own migrations and the runtime's, in version order, applied
/// versions it does not know tolerated (a newer release migrated the database: see the
/// module's documentation) and sqlx's own lock off: apply it with [`apply`], which locks in
/// a way MariaDB honours and names the versions it does not know.
///
/// # Panics
///
/// When a service migration has the version of a runtime migration: two files would claim
/// one row of `_sqlx_migrations`. This is a mistake in the source tree, found by the first
/// test that migrates a database.
pub fn with_runtime(service: Migrator) -> Migrator {
    let runtime: HashSet<i64> = RUNTIME.iter().map(|m| m.version).collect();
    if let Some(clash) = service.iter().find(|m| runtime.contains(&m.version)) {
        panic!(
            "migration {} ({}) reuses the version of a shop-runtime migration; give it a new timestamp",
            clash.version, clash.description
        );
    }
    let mut all: Vec<Migration> = service.iter().chain(RUNTIME.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    // A listed source resolves on the first poll and cannot fail.
    match Migrator::new(Listed(all)).now_or_never() {
        Some(Ok(mut migrator)) => {
            migrator.set_locking(false);
            migrator.set_ignore_missing(true);
            migrator
        }
        Some(Err(e)) => unreachable!("in-memory migrations failed to resolve: {e}"),
        None => unreachable!("in-memory migrations did not resolve at once"),
    }
}

/// How long a replica waits for another one's migrations before it gives up.
const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(300);

/// Applies `migrator` to `pool`'s database under a database lock, so that replicas started
/// together on a new database (several `migrate` commands, or APIs starting) apply each
/// migration once: the first takes the lock and migrates, the others wait for it and then
/// find nothing left to do.
///
/// sqlx's own migration lock does not work on MariaDB: it asks for `GET_LOCK(name, -1)`,
/// which MariaDB answers `NULL` without locking (MySQL reads -1 as "wait forever"), and
/// sqlx ignores the answer. Two replicas then both insert the first migration's history
/// row ("Duplicate entry … for key 'PRIMARY'") or one sees the other's half-applied
/// migration ("migration … is partially applied"). So the lock is taken here, on the
/// connection that migrates, with a finite wait whose answer is checked; sqlx's is turned
/// off. The lock is per database (its name holds the database's name) and MariaDB frees it
/// when the connection ends, also when the process dies mid-migration.
pub async fn apply(pool: &MySqlPool, migrator: &Migrator) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let name: String = sqlx::query_scalar("SELECT CONCAT('shop-migrations:', DATABASE())")
        .fetch_one(&mut *conn)
        .await?;
    let waited = std::time::Instant::now();
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
        .bind(&name)
        .bind(MIGRATION_LOCK_WAIT.as_secs())
        .fetch_one(&mut *conn)
        .await?;
    if got != Some(1) {
        anyhow::bail!(
            "another process has held the migration lock `{name}` for {} s; is a migration stuck?",
            MIGRATION_LOCK_WAIT.as_secs()
        );
    }
    tracing::debug!(lock = %name, waited_ms = waited.elapsed().as_millis() as u64, "migration lock taken");
    if migrator.ignore_missing {
        let newer = unknown_versions(&mut conn, migrator).await?;
        if !newer.is_empty() {
            tracing::warn!(
                versions = ?newer,
                "the database has migrations this release does not know (a newer release \
                 applied them); running on that schema, as expand-then-contract allows"
            );
        }
    }
    let result = migrator.run_direct(&mut *conn).await;
    // Released whatever the outcome; a failed release only means the connection is gone,
    // which frees the lock as well.
    let _ = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(&name)
        .execute(&mut *conn)
        .await;
    Ok(result?)
}

/// The versions applied to the database (`_sqlx_migrations`) that `migrator` does not know,
/// oldest first; none on a new database.
pub async fn unknown_versions(
    conn: &mut sqlx::MySqlConnection,
    migrator: &Migrator,
) -> Result<Vec<i64>, sqlx::Error> {
    let history_tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if history_tables == 0 {
        return Ok(Vec::new());
    }
    let known: HashSet<i64> = migrator.iter().map(|m| m.version).collect();
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    Ok(applied.into_iter().filter(|v| !known.contains(v)).collect())
}

/// The versions of `migrator` not yet applied successfully, oldest first; an error when the
/// history cannot be read (no `_sqlx_migrations` table yet, database away).
async fn missing_versions(pool: &MySqlPool, migrator: &Migrator) -> Result<Vec<i64>, sqlx::Error> {
    let applied: HashSet<i64> =
        sqlx::query_scalar(r#"SELECT version FROM _sqlx_migrations WHERE success = 1"#)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    Ok(migrator
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}

/// Waits until every migration of `migrator` is applied (by the API binary or its `migrate`
/// command): consumers never run DDL. Every version, not the newest: a runtime migration
/// may be older than the service's newest and still be missing.
pub async fn wait_for_schema(
    pool: &MySqlPool,
    migrator: &Migrator,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    let mut logged = false;
    loop {
        if matches!(missing_versions(pool, migrator).await, Ok(m) if m.is_empty()) {
            return Ok(());
        }
        if !logged {
            tracing::info!(latest, "waiting for the API to apply database migrations");
            logged = true;
        }
        tokio::select! {
            () = cancel.cancelled() => anyhow::bail!("stopped while waiting for migrations"),
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// The version and SHA-384 of each runtime migration as databases migrated by the services
    /// recorded them before the files moved here. Written out, not computed, on purpose.
    const RECORDED: [(i64, &str); 2] = [
        (
            20261124000003,
            "3eae102614c3ddb367805adb5e4dbe61c1bd5833eee0af996c45e26d23160a9c58ab417ca26922139c5f9a87ca636812",
        ),
        (
            20261124000004,
            "6300c9939e9f0765b4c2d28fbe020f2ff7cf4e090b066726cbd76e22070fdc4a8550a01e9cd000776edd5acec69232a3",
        ),
    ];

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn runtime_migrations_keep_what_existing_databases_recorded() {
        let ours: Vec<(i64, String)> = RUNTIME
            .iter()
            .take(RECORDED.len())
            .map(|m| (m.version, hex(&m.checksum)))
            .collect();
        let recorded: Vec<(i64, String)> = RECORDED
            .iter()
            .map(|(v, c)| (*v, (*c).to_owned()))
            .collect();
        assert_eq!(
            ours, recorded,
            "an applied migration was edited or renumbered: databases migrated before refuse it"
        );
    }

    #[test]
    fn a_service_migrator_holds_both_sets_in_version_order() {
        let service = Migrator::new(Listed(vec![
            Migration::new(
                20261124000001,
                "create products".into(),
                sqlx::migrate::MigrationType::Simple,
                Cow::Borrowed("SELECT 1"),
                false,
            ),
            Migration::new(
                20991231000000,
                "later".into(),
                sqlx::migrate::MigrationType::Simple,
                Cow::Borrowed("SELECT 2"),
                false,
            ),
        ]))
        .now_or_never()
        .unwrap()
        .unwrap();
        let all = with_runtime(service);
        let versions: Vec<i64> = all.iter().map(|m| m.version).collect();
        assert_eq!(
            versions,
            [
                20261124000001,
                20261124000003,
                20261124000004,
                20261125100001,
                20261207000001,
                20991231000000
            ]
        );
    }

    #[test]
    #[should_panic(expected = "reuses the version of a shop-runtime migration")]
    fn a_service_migration_may_not_reuse_a_runtime_version() {
        let clash = Migrator::new(Listed(vec![Migration::new(
            20261124000003,
            "create something".into(),
            sqlx::migrate::MigrationType::Simple,
            Cow::Borrowed("SELECT 1"),
            false,
        )]))
        .now_or_never()
        .unwrap()
        .unwrap();
        let _ = with_runtime(clash);
    }
}
