//! The admin database's queries, one function each.

use std::collections::HashSet;

use events::Product;
use futures_util::future::BoxFuture;
use shop_runtime::lists::search_index;
use shop_runtime::statement;
use sqlx::{FromRow, MySqlConnection, MySqlPool, QueryBuilder};

pub use crate::auth::Role;
use crate::validation::ProductInput;

/// A catalogue product as stored: what clients see, and the version events carry.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ProductRow {
    #[sqlx(flatten)]
    pub product: Product,
    pub version: u64,
}

/// The products in the catalogue's search index (`shop_runtime::lists::search_index::reindex`):
/// all of them.
pub const SEARCHABLE: &str =
    r#"SELECT id, title FROM products WHERE id > ? ORDER BY id LIMIT ? LOCK IN SHARE MODE"#;

pub async fn list_products(pool: &MySqlPool) -> Result<Vec<ProductRow>, sqlx::Error> {
    statement::run(
        "list_products",
        "SELECT products",
        sqlx::query_as(r#"SELECT id, title, image, likes, version FROM products ORDER BY id"#)
            .fetch_all(pool),
    )
    .await
}

pub async fn get_product(pool: &MySqlPool, id: u64) -> Result<Option<ProductRow>, sqlx::Error> {
    statement::run(
        "get_product",
        "SELECT products",
        sqlx::query_as(r#"SELECT id, title, image, likes, version FROM products WHERE id = ?"#)
            .bind(id)
            .fetch_optional(pool),
    )
    .await
}

/// Reads and locks the row until the transaction ends, so concurrent updates of one product
/// commit, and enqueue their events, one after the other.
pub async fn lock_product(
    tx: &mut MySqlConnection,
    id: u64,
) -> Result<Option<ProductRow>, sqlx::Error> {
    statement::run(
        "lock_product",
        "SELECT products",
        sqlx::query_as(
            r#"SELECT id, title, image, likes, version FROM products WHERE id = ? FOR UPDATE"#,
        )
        .bind(id)
        .fetch_optional(tx),
    )
    .await
}

pub async fn insert_product(
    tx: &mut MySqlConnection,
    input: &ProductInput,
) -> Result<ProductRow, sqlx::Error> {
    let done = statement::run(
        "insert_product",
        "INSERT products",
        sqlx::query(r#"INSERT INTO products (title, image) VALUES (?, ?)"#)
            .bind(&input.title)
            .bind(&input.image)
            .execute(&mut *tx),
    )
    .await?;
    search_index::index_new_product(tx, done.last_insert_id(), &input.title).await?;
    Ok(ProductRow {
        product: Product {
            id: done.last_insert_id(),
            title: input.title.clone(),
            image: input.image.clone(),
            likes: 0,
        },
        version: 1,
    })
}

/// Writes the new title and image and bumps the version of a row locked by [`lock_product`].
pub async fn update_product(
    tx: &mut MySqlConnection,
    current: &ProductRow,
    input: &ProductInput,
) -> Result<ProductRow, sqlx::Error> {
    statement::run(
        "update_product",
        "UPDATE products",
        sqlx::query(
            r#"UPDATE products SET title = ?, image = ?, version = version + 1 WHERE id = ?"#,
        )
        .bind(&input.title)
        .bind(&input.image)
        .bind(current.product.id)
        .execute(&mut *tx),
    )
    .await?;
    search_index::index_product(tx, current.product.id, &input.title).await?;
    Ok(ProductRow {
        product: Product {
            title: input.title.clone(),
            image: input.image.clone(),
            ..current.product.clone()
        },
        version: current.version + 1,
    })
}

/// Deletes a product; `false` when there was none.
pub async fn delete_product(tx: &mut MySqlConnection, id: u64) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "delete_product",
        "DELETE products",
        sqlx::query(r#"DELETE FROM products WHERE id = ?"#)
            .bind(id)
            .execute(&mut *tx),
    )
    .await?;
    search_index::unindex_product(tx, id).await?;
    Ok(done.rows_affected() > 0)
}

pub async fn random_user_id(pool: &MySqlPool) -> Result<Option<u64>, sqlx::Error> {
    statement::run(
        "random_user_id",
        "SELECT users",
        sqlx::query_scalar(r#"SELECT id FROM users ORDER BY RAND() LIMIT 1"#).fetch_optional(pool),
    )
    .await
}

/// Creates a user, or finds the one with this email; returns its id and whether it is new.
pub async fn upsert_user(
    pool: &MySqlPool,
    name: &str,
    email: &str,
) -> Result<(u64, bool), sqlx::Error> {
    let done = statement::run(
        "upsert_user",
        "INSERT users",
        sqlx::query(r#"INSERT IGNORE INTO users (name, email) VALUES (?, ?)"#)
            .bind(name)
            .bind(email)
            .execute(pool),
    )
    .await?;
    if done.rows_affected() == 1 {
        return Ok((done.last_insert_id(), true));
    }
    let id = statement::run(
        "upsert_user",
        "SELECT users",
        sqlx::query_scalar(r#"SELECT id FROM users WHERE email = ?"#)
            .bind(email)
            .fetch_one(pool),
    )
    .await?;
    Ok((id, false))
}

/// [`list_products`] as the list cache loads it.
pub fn load_list(pool: &MySqlPool) -> BoxFuture<'_, Result<Vec<events::Product>, sqlx::Error>> {
    Box::pin(async move {
        let rows = list_products(pool).await?;
        Ok(rows.into_iter().map(|r| r.product).collect())
    })
}

/// Adds `likes[i].1` likes to product `likes[i].0`, for every product that exists, in two
/// statements whatever their number; returns the ids that exist (locked until the commit).
pub async fn add_likes(
    tx: &mut MySqlConnection,
    likes: &[(u64, u64)],
) -> Result<HashSet<u64>, sqlx::Error> {
    if likes.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = QueryBuilder::new("SELECT id FROM products WHERE id IN (");
    let mut list = q.separated(", ");
    for (id, _) in likes {
        list.push_bind(*id);
    }
    q.push(") ORDER BY id FOR UPDATE");
    let found: Vec<u64> = statement::run(
        "lock_liked_products",
        "SELECT products",
        q.build_query_scalar().fetch_all(&mut *tx),
    )
    .await?;
    let found: HashSet<u64> = found.into_iter().collect();
    if found.is_empty() {
        return Ok(found);
    }
    let mut q = QueryBuilder::new("UPDATE products SET likes = likes + CASE id");
    for (id, n) in likes.iter().filter(|(id, _)| found.contains(id)) {
        q.push(" WHEN ").push_bind(*id).push(" THEN ").push_bind(*n);
    }
    q.push(" ELSE 0 END WHERE id IN (");
    let mut list = q.separated(", ");
    for id in &found {
        list.push_bind(*id);
    }
    q.push(")");
    statement::run("add_likes", "UPDATE products", q.build().execute(&mut *tx)).await?;
    Ok(found)
}

/// Adds one like; `false` when the product does not exist.
pub async fn add_like(tx: &mut MySqlConnection, id: u64) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "add_like",
        "UPDATE products",
        sqlx::query(r#"UPDATE products SET likes = likes + 1 WHERE id = ?"#)
            .bind(id)
            .execute(tx),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What signing in needs of a user.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub role: Role,
}

pub async fn account_by_email(
    pool: &MySqlPool,
    email: &str,
) -> Result<Option<Account>, sqlx::Error> {
    statement::run(
        "account_by_email",
        "SELECT users",
        sqlx::query_as(
            r#"SELECT id, name, email, password_hash, disabled_at IS NOT NULL AS disabled, role
               FROM users WHERE email = ?"#,
        )
        .bind(email)
        .fetch_optional(pool),
    )
    .await
}

pub async fn account_by_id(pool: &MySqlPool, id: u64) -> Result<Option<Account>, sqlx::Error> {
    statement::run(
        "account_by_id",
        "SELECT users",
        sqlx::query_as(
            r#"SELECT id, name, email, password_hash, disabled_at IS NOT NULL AS disabled, role
               FROM users WHERE id = ?"#,
        )
        .bind(id)
        .fetch_optional(pool),
    )
    .await
}

/// Sets a user's password hash; `false` when there is no user with this email.
pub async fn set_password_hash(
    pool: &MySqlPool,
    email: &str,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "set_password_hash",
        "UPDATE users",
        sqlx::query(r#"UPDATE users SET password_hash = ? WHERE email = ?"#)
            .bind(hash)
            .bind(email)
            .execute(pool),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a new API token's digest under `name`, without owner (an `admin-api create-token`
/// token); `false` when a live ownerless token has the name.
pub async fn insert_token<'c>(
    pool: impl sqlx::MySqlExecutor<'c>,
    name: &str,
    digest: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "insert_token",
        "INSERT api_tokens",
        sqlx::query(r#"INSERT IGNORE INTO api_tokens (name, token_sha256) VALUES (?, ?)"#)
            .bind(name)
            .bind(digest)
            .execute(pool),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A live token, as a request presents it: not revoked, not expired, and its owner (if it
/// has one) not disabled.
#[derive(Debug, Clone, FromRow)]
pub struct LiveToken {
    pub id: u64,
    pub name: String,
    /// The owner's id, name, email and role; `None` for a token without owner (an admin's).
    pub user_id: Option<u64>,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub role: Option<Role>,
    /// Seconds since the token was last used (`None`: never), so that `last_used_at` is
    /// written at most once a minute.
    pub unused_for_s: Option<i64>,
}

impl LiveToken {
    /// The token's owner, as the request's account (read with the token, in one query).
    pub fn owner(&self) -> Option<Account> {
        Some(Account {
            id: self.user_id?,
            name: self.user_name.clone()?,
            email: self.user_email.clone()?,
            password_hash: None,
            disabled: false,
            role: self.role?,
        })
    }
}

/// The live token with this digest.
pub async fn live_token(pool: &MySqlPool, digest: &str) -> Result<Option<LiveToken>, sqlx::Error> {
    statement::run(
        "live_token",
        "SELECT api_tokens",
        sqlx::query_as(
            r#"SELECT t.id, t.name, t.user_id, u.name AS user_name, u.email AS user_email, u.role,
                      TIMESTAMPDIFF(SECOND, t.last_used_at, NOW(6)) AS unused_for_s
               FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
               WHERE t.token_sha256 = ? AND t.revoked_at IS NULL
                 AND (t.expires_at IS NULL OR t.expires_at > NOW(6))
                 AND (t.user_id IS NULL OR (u.id IS NOT NULL AND u.disabled_at IS NULL))"#,
        )
        .bind(digest)
        .fetch_optional(pool),
    )
    .await
}

/// Notes that a token was used now.
pub async fn touch_token(pool: &MySqlPool, id: u64) -> Result<(), sqlx::Error> {
    statement::run(
        "touch_token",
        "UPDATE api_tokens",
        sqlx::query(r#"UPDATE api_tokens SET last_used_at = NOW(6) WHERE id = ?"#)
            .bind(id)
            .execute(pool),
    )
    .await?;
    Ok(())
}

/// Revokes the live ownerless token named `name` (`admin-api revoke-token`); `false` when
/// there is none.
pub async fn revoke_token<'c>(
    pool: impl sqlx::MySqlExecutor<'c>,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "revoke_token",
        "UPDATE api_tokens",
        sqlx::query(
            r#"UPDATE api_tokens SET revoked_at = NOW(6)
               WHERE name = ? AND user_id IS NULL AND revoked_at IS NULL"#,
        )
        .bind(name)
        .execute(pool),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}
