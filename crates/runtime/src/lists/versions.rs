//! What changed, and the database's count of each kind of change (`cache_versions`), bumped
//! by writers in the transaction of their change and read by the lists' safety-net check.

use futures_util::future::BoxFuture;
use sqlx::MySqlPool;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Products came, went or changed: a list must not be served without it.
    Catalogue,
    /// Like counts moved: a list may show them a moment late ([`super::cache`]).
    Counts,
}

impl Change {
    /// The notice's body, and the row of `cache_versions` that counts this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Catalogue => "catalogue",
            Change::Counts => "counts",
        }
    }

    pub(super) fn parse(body: &[u8]) -> Option<Change> {
        match body {
            b"catalogue" => Some(Change::Catalogue),
            b"counts" => Some(Change::Counts),
            _ => None,
        }
    }

    pub(super) const ALL: [Change; 2] = [Change::Catalogue, Change::Counts];

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// Reads the database's change versions: `(catalogue, counts)`.
pub type VersionsQuery = fn(&MySqlPool) -> BoxFuture<'_, Result<(u64, u64), sqlx::Error>>;

/// The `cache_versions` row of `change`, bumped in the writer's transaction.
pub async fn bump_version(
    tx: &mut sqlx::MySqlConnection,
    change: Change,
) -> Result<(), sqlx::Error> {
    crate::statement::run(
        "bump_cache_version",
        "UPDATE cache_versions",
        sqlx::query("UPDATE cache_versions SET version = version + 1 WHERE name = ?")
            .bind(change.as_str())
            .execute(tx),
    )
    .await?;
    Ok(())
}

/// [`read_versions`] as a [`VersionsQuery`].
pub fn versions(pool: &MySqlPool) -> BoxFuture<'_, Result<(u64, u64), sqlx::Error>> {
    Box::pin(read_versions(pool))
}

/// The `cache_versions` rows: `(catalogue, counts)`.
pub async fn read_versions(pool: &MySqlPool) -> Result<(u64, u64), sqlx::Error> {
    crate::statement::run(
        "read_cache_versions",
        "SELECT cache_versions",
        sqlx::query_as(
            r#"SELECT
                 CAST(COALESCE((SELECT version FROM cache_versions WHERE name = 'catalogue'), 0) AS UNSIGNED),
                 CAST(COALESCE((SELECT version FROM cache_versions WHERE name = 'counts'), 0) AS UNSIGNED)"#,
        )
        .fetch_one(pool),
    )
    .await
}
