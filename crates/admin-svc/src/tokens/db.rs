//! The API tokens' queries for `/api/tokens` (a request's token is looked up by
//! `crate::db::live_token`).

use shop_runtime::statement;
use sqlx::{FromRow, MySqlConnection, MySqlPool};

use crate::micros;

/// A live (not revoked) token, as the tokens page lists it.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: u64,
    pub name: String,
    pub user_id: Option<u64>,
    pub user_name: Option<String>,
    pub created_us: i64,
    pub last_used_us: Option<i64>,
    pub expires_us: Option<i64>,
    pub expired: bool,
}

const COLUMNS: &str = concat!(
    "SELECT t.id, t.name, t.user_id, u.name AS user_name, ",
    micros!("t.created_at"),
    " AS created_us, ",
    micros!("t.last_used_at"),
    " AS last_used_us, ",
    micros!("t.expires_at"),
    " AS expires_us, COALESCE(t.expires_at <= NOW(6), FALSE) AS expired ",
    "FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.revoked_at IS NULL"
);

/// The live tokens of `owner`, or every live token (`None`), by id.
pub async fn list(pool: &MySqlPool, owner: Option<u64>) -> Result<Vec<TokenRow>, sqlx::Error> {
    let sql = match owner {
        Some(_) => format!("{COLUMNS} AND t.user_id = ? ORDER BY t.id"),
        None => format!("{COLUMNS} ORDER BY t.id"),
    };
    let mut q = sqlx::query_as(&sql);
    if let Some(owner) = owner {
        q = q.bind(owner);
    }
    statement::run("list_tokens", "SELECT api_tokens", q.fetch_all(pool)).await
}

/// The live token `id`, locked until the transaction ends.
pub async fn lock(conn: &mut MySqlConnection, id: u64) -> Result<Option<TokenRow>, sqlx::Error> {
    let sql = format!("{COLUMNS} AND t.id = ? FOR UPDATE");
    statement::run(
        "lock_token",
        "SELECT api_tokens",
        sqlx::query_as(&sql).bind(id).fetch_optional(conn),
    )
    .await
}

/// Stores a new token of `owner` (`None`: without owner) that expires in `days` (`None`:
/// never); `None` when the owner has a live token of this name.
pub async fn insert(
    conn: &mut MySqlConnection,
    owner: Option<u64>,
    name: &str,
    digest: &str,
    days: Option<u32>,
) -> Result<Option<u64>, sqlx::Error> {
    let done = statement::run(
        "insert_owned_token",
        "INSERT api_tokens",
        sqlx::query(
            r#"INSERT IGNORE INTO api_tokens (name, token_sha256, user_id, expires_at)
               VALUES (?, ?, ?, IF(? IS NULL, NULL, NOW(6) + INTERVAL ? DAY))"#,
        )
        .bind(name)
        .bind(digest)
        .bind(owner)
        .bind(days)
        .bind(days)
        .execute(conn),
    )
    .await?;
    Ok((done.rows_affected() == 1).then(|| done.last_insert_id()))
}

/// Revokes token `id`.
pub async fn revoke(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    statement::run(
        "revoke_token_by_id",
        "UPDATE api_tokens",
        sqlx::query(r#"UPDATE api_tokens SET revoked_at = NOW(6) WHERE id = ?"#)
            .bind(id)
            .execute(conn),
    )
    .await?;
    Ok(())
}
