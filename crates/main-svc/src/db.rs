//! The main database's queries, one function each.

use events::{Product, ProductState};
use shop_runtime::statement;
use sqlx::{FromRow, MySqlConnection, MySqlPool};

/// Mirrored products not deleted, by id, each with the shop's own like count: one query, no
/// N+1.
pub async fn list_products(pool: &MySqlPool) -> Result<Vec<Product>, sqlx::Error> {
    statement::run(
        "list_products",
        "SELECT products",
        sqlx::query_as(
            r#"SELECT id, title, image, likes FROM products WHERE deleted_at IS NULL ORDER BY id"#,
        )
        .fetch_all(pool),
    )
    .await
}

/// Adds one to a live product's like count, locking its row until the transaction ends;
/// `false` when there is no such product (or it was deleted).
pub async fn count_like(tx: &mut MySqlConnection, id: u64) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "count_like",
        "UPDATE products",
        sqlx::query(r#"UPDATE products SET likes = likes + 1 WHERE id = ? AND deleted_at IS NULL"#)
            .bind(id)
            .execute(tx),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a shopper's like; `false` when this shopper liked this product before.
pub async fn record_like(
    tx: &mut MySqlConnection,
    id: u64,
    shopper: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "record_like",
        "INSERT product_likes",
        sqlx::query(r#"INSERT IGNORE INTO product_likes (product_id, shopper) VALUES (?, ?)"#)
            .bind(id)
            .bind(shopper)
            .execute(tx),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The mirror's record of a product: its version and whether it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct MirrorState {
    pub version: Option<u64>,
    pub deleted: bool,
}

pub async fn lock_mirror_state(
    tx: &mut MySqlConnection,
    id: u64,
) -> Result<Option<MirrorState>, sqlx::Error> {
    statement::run("lock_mirror_state", "SELECT products", sqlx::query_as(
        r#"SELECT version, deleted_at IS NOT NULL AS deleted FROM products WHERE id = ? FOR UPDATE"#,
    )
    .bind(id)
    .fetch_optional(tx)).await
}

pub async fn insert_mirror(tx: &mut MySqlConnection, p: &ProductState) -> Result<(), sqlx::Error> {
    statement::run(
        "insert_mirror",
        "INSERT products",
        sqlx::query(r#"INSERT INTO products (id, title, image, version) VALUES (?, ?, ?, ?)"#)
            .bind(p.id)
            .bind(&p.title)
            .bind(&p.image)
            .bind(p.version)
            .execute(tx),
    )
    .await?;
    Ok(())
}

/// Overwrites title and image; keeps the stored version when the event carries none.
pub async fn update_mirror(tx: &mut MySqlConnection, p: &ProductState) -> Result<(), sqlx::Error> {
    statement::run("update_mirror", "UPDATE products", sqlx::query(
        r#"UPDATE products SET title = ?, image = ?, version = COALESCE(?, version) WHERE id = ?"#,
    )
    .bind(&p.title)
    .bind(&p.image)
    .bind(p.version)
    .bind(p.id)
    .execute(tx)).await?;
    Ok(())
}

/// Marks a product deleted, creating the tombstone when the product never arrived.
pub async fn tombstone(tx: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    statement::run(
        "tombstone",
        "INSERT products",
        sqlx::query(
            r#"INSERT INTO products (id, title, image, deleted_at) VALUES (?, '', '', NOW(6))
           ON DUPLICATE KEY UPDATE deleted_at = COALESCE(deleted_at, NOW(6))"#,
        )
        .bind(id)
        .execute(tx),
    )
    .await?;
    Ok(())
}
