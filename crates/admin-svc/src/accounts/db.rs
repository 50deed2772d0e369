//! The accounts' and one-time links' queries.

use shop_runtime::statement;
use sqlx::{FromRow, MySqlConnection, MySqlPool, QueryBuilder};

use crate::auth::Role;
use crate::micros;

/// An account as the accounts page lists it.
#[derive(Debug, Clone, FromRow)]
pub struct AccountRow {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub password_set: bool,
    pub created_us: i64,
    pub last_sign_in_us: Option<i64>,
}

const ACCOUNT_COLUMNS: &str = concat!(
    "SELECT id, name, email, role, disabled_at IS NOT NULL AS disabled, ",
    "password_hash IS NOT NULL AS password_set, ",
    micros!("created_at"),
    " AS created_us, ",
    micros!("last_sign_in_at"),
    " AS last_sign_in_us FROM users"
);

pub async fn list(pool: &MySqlPool) -> Result<Vec<AccountRow>, sqlx::Error> {
    let sql = format!("{ACCOUNT_COLUMNS} ORDER BY id");
    statement::run(
        "list_accounts",
        "SELECT users",
        sqlx::query_as(&sql).fetch_all(pool),
    )
    .await
}

/// The account `id`, locked until the transaction ends.
pub async fn lock(conn: &mut MySqlConnection, id: u64) -> Result<Option<AccountRow>, sqlx::Error> {
    let sql = format!("{ACCOUNT_COLUMNS} WHERE id = ? FOR UPDATE");
    statement::run(
        "lock_account",
        "SELECT users",
        sqlx::query_as(&sql).bind(id).fetch_optional(conn),
    )
    .await
}

/// The ids of the enabled admins, locked in id order: whoever changes an admin's role or
/// disables one holds them all, so two such changes never both see another admin left.
pub async fn lock_enabled_admins(conn: &mut MySqlConnection) -> Result<Vec<u64>, sqlx::Error> {
    statement::run(
        "lock_enabled_admins",
        "SELECT users",
        sqlx::query_scalar(
            r#"SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL
               ORDER BY id FOR UPDATE"#,
        )
        .fetch_all(conn),
    )
    .await
}

/// Creates an account without password; `None` when the email is taken.
pub async fn insert(
    conn: &mut MySqlConnection,
    name: &str,
    email: &str,
    role: Role,
) -> Result<Option<u64>, sqlx::Error> {
    let done = statement::run(
        "insert_account",
        "INSERT users",
        sqlx::query(r#"INSERT IGNORE INTO users (name, email, role) VALUES (?, ?, ?)"#)
            .bind(name)
            .bind(email)
            .bind(role)
            .execute(conn),
    )
    .await?;
    Ok((done.rows_affected() == 1).then(|| done.last_insert_id()))
}

/// Changes what is given of an account's name, role and disabled state.
pub async fn update(
    conn: &mut MySqlConnection,
    id: u64,
    name: Option<&str>,
    role: Option<Role>,
    disabled: Option<bool>,
) -> Result<(), sqlx::Error> {
    let mut q = QueryBuilder::new("UPDATE users SET id = id");
    if let Some(name) = name {
        q.push(", name = ").push_bind(name.to_owned());
    }
    if let Some(role) = role {
        q.push(", role = ").push_bind(role);
    }
    match disabled {
        Some(true) => {
            q.push(", disabled_at = COALESCE(disabled_at, NOW(6))");
        }
        Some(false) => {
            q.push(", disabled_at = NULL");
        }
        None => {}
    }
    q.push(" WHERE id = ").push_bind(id);
    statement::run("update_account", "UPDATE users", q.build().execute(conn)).await?;
    Ok(())
}

/// How long a one-time link works.
pub const LINK_HOURS: u32 = 72;

/// Stores a new link's digest for `user_id`, after revoking its earlier unused ones;
/// returns when it expires (microseconds).
pub async fn insert_link(
    conn: &mut MySqlConnection,
    user_id: u64,
    created_by: Option<u64>,
    digest: &str,
) -> Result<i64, sqlx::Error> {
    statement::run(
        "revoke_account_links",
        "UPDATE account_links",
        sqlx::query(
            r#"UPDATE account_links SET revoked_at = NOW(6)
               WHERE user_id = ? AND used_at IS NULL AND revoked_at IS NULL"#,
        )
        .bind(user_id)
        .execute(&mut *conn),
    )
    .await?;
    let done = statement::run(
        "insert_account_link",
        "INSERT account_links",
        sqlx::query(
            r#"INSERT INTO account_links (token_sha256, user_id, created_by, expires_at)
               VALUES (?, ?, ?, NOW(6) + INTERVAL ? HOUR)"#,
        )
        .bind(digest)
        .bind(user_id)
        .bind(created_by)
        .bind(LINK_HOURS)
        .execute(&mut *conn),
    )
    .await?;
    let sql = concat!(
        "SELECT ",
        micros!("expires_at"),
        " FROM account_links WHERE id = ?"
    );
    statement::run(
        "insert_account_link",
        "SELECT account_links",
        sqlx::query_scalar(sql)
            .bind(done.last_insert_id())
            .fetch_one(conn),
    )
    .await
}

/// A link and its account, as a token names it.
#[derive(Debug, Clone, FromRow)]
pub struct Link {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub email: String,
    pub disabled: bool,
    pub used: bool,
    pub revoked: bool,
    pub expired: bool,
    pub expires_us: i64,
}

pub async fn link(pool: &MySqlPool, digest: &str) -> Result<Option<Link>, sqlx::Error> {
    let sql = concat!(
        "SELECT l.id, l.user_id, u.name, u.email, u.disabled_at IS NOT NULL AS disabled, ",
        "l.used_at IS NOT NULL AS used, l.revoked_at IS NOT NULL AS revoked, ",
        "l.expires_at <= NOW(6) AS expired, ",
        micros!("l.expires_at"),
        " AS expires_us FROM account_links l JOIN users u ON u.id = l.user_id ",
        "WHERE l.token_sha256 = ?"
    );
    statement::run(
        "find_account_link",
        "SELECT account_links",
        sqlx::query_as(sql).bind(digest).fetch_optional(pool),
    )
    .await
}

/// Marks link `id` used, if it still works (not used, revoked or expired, its account
/// enabled); `false` when it does not: of two concurrent redemptions, one wins.
pub async fn use_link(conn: &mut MySqlConnection, id: u64) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "use_account_link",
        "UPDATE account_links",
        sqlx::query(
            r#"UPDATE account_links l JOIN users u ON u.id = l.user_id
               SET l.used_at = NOW(6)
               WHERE l.id = ? AND l.used_at IS NULL AND l.revoked_at IS NULL
                 AND l.expires_at > NOW(6) AND u.disabled_at IS NULL"#,
        )
        .bind(id)
        .execute(conn),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the password hash of account `id`.
pub async fn set_password(
    conn: &mut MySqlConnection,
    id: u64,
    hash: &str,
) -> Result<(), sqlx::Error> {
    statement::run(
        "set_account_password",
        "UPDATE users",
        sqlx::query(r#"UPDATE users SET password_hash = ? WHERE id = ?"#)
            .bind(hash)
            .bind(id)
            .execute(conn),
    )
    .await?;
    Ok(())
}
