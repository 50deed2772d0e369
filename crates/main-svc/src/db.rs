//! The main database's queries, one function each.

use events::{Product, ProductState};
use futures_util::future::BoxFuture;
use shop_runtime::lists::search_index;
use shop_runtime::statement;
use sqlx::{FromRow, MySqlConnection, MySqlPool};

/// Mirrored products not deleted, by id, each with the shop's own like count (the sum of its
/// shards): one query, no N+1.
pub async fn list_products(pool: &MySqlPool) -> Result<Vec<Product>, sqlx::Error> {
    statement::run(
        "list_products",
        "SELECT products",
        sqlx::query_as(
            r#"SELECT p.id, p.title, p.image, CAST(COALESCE(c.likes, 0) AS UNSIGNED) AS likes
               FROM products p
               LEFT JOIN (SELECT product_id, SUM(likes) AS likes
                          FROM product_like_counts GROUP BY product_id) c
                 ON c.product_id = p.id
               WHERE p.deleted_at IS NULL
               ORDER BY p.id"#,
        )
        .fetch_all(pool),
    )
    .await
}

/// The products in the shop's search index (`shop_runtime::lists::search_index::reindex`): the
/// mirror's live ones.
pub const SEARCHABLE: &str = r#"SELECT id, title FROM products
    WHERE id > ? AND deleted_at IS NULL ORDER BY id LIMIT ? LOCK IN SHARE MODE"#;

/// What changed last, for the list's version check: the catalogue's version
/// (`cache_versions`, bumped by the consumer) and the newest like's number.
pub fn list_versions(pool: &MySqlPool) -> BoxFuture<'_, Result<(u64, u64), sqlx::Error>> {
    Box::pin(async move {
        statement::run(
            "read_list_versions",
            "SELECT cache_versions",
            sqlx::query_as(
                r#"SELECT
                     CAST(COALESCE((SELECT version FROM cache_versions WHERE name = 'catalogue'), 0) AS UNSIGNED),
                     CAST(COALESCE((SELECT MAX(seq) FROM product_likes), 0) AS UNSIGNED)"#,
            )
            .fetch_one(pool),
        )
        .await
    })
}

/// [`list_products`] as the list cache loads it.
pub fn load_list(pool: &MySqlPool) -> BoxFuture<'_, Result<Vec<Product>, sqlx::Error>> {
    Box::pin(list_products(pool))
}

/// Records a shopper's like of a live product, holding a shared lock on the product's row
/// until the transaction ends (likes of one product share it; a delete waits for them).
/// `false` when nothing was recorded: no such live product, or this shopper liked it before
/// ([`is_live`] tells which).
pub async fn record_like(
    tx: &mut MySqlConnection,
    id: u64,
    shopper: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "record_like",
        "INSERT product_likes",
        sqlx::query(
            r#"INSERT IGNORE INTO product_likes (product_id, shopper)
               SELECT id, ? FROM products WHERE id = ? AND deleted_at IS NULL
               LOCK IN SHARE MODE"#,
        )
        .bind(shopper)
        .bind(id)
        .execute(tx),
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the product is in the shop (mirrored and not deleted).
pub async fn is_live(tx: &mut MySqlConnection, id: u64) -> Result<bool, sqlx::Error> {
    statement::run(
        "product_is_live",
        "SELECT products",
        sqlx::query_scalar(
            r#"SELECT EXISTS(SELECT 1 FROM products WHERE id = ? AND deleted_at IS NULL)"#,
        )
        .bind(id)
        .fetch_one(tx),
    )
    .await
}

/// Shards of each product's like count.
pub const COUNT_SHARDS: u8 = 16;

/// Adds one to one shard of a product's like count, the last statement before the commit so
/// that the shard's row is locked as briefly as can be.
pub async fn count_like(tx: &mut MySqlConnection, id: u64, shard: u8) -> Result<(), sqlx::Error> {
    statement::run(
        "count_like",
        "INSERT product_like_counts",
        sqlx::query(
            r#"INSERT INTO product_like_counts (product_id, shard, likes) VALUES (?, ?, 1)
               ON DUPLICATE KEY UPDATE likes = likes + 1"#,
        )
        .bind(id)
        .bind(shard)
        .execute(tx),
    )
    .await?;
    Ok(())
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
            .execute(&mut *tx),
    )
    .await?;
    search_index::index_new_product(tx, p.id, &p.title).await
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
    .execute(&mut *tx)).await?;
    search_index::index_product(tx, p.id, &p.title).await
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
        .execute(&mut *tx),
    )
    .await?;
    search_index::unindex_product(tx, id).await
}

/// The products `shopper` liked, by id.
pub async fn liked_by(pool: &MySqlPool, shopper: &str) -> Result<Vec<u64>, sqlx::Error> {
    statement::run(
        "liked_by",
        "SELECT product_likes",
        sqlx::query_scalar(
            r#"SELECT product_id FROM product_likes WHERE shopper = ? ORDER BY product_id"#,
        )
        .bind(shopper)
        .fetch_all(pool),
    )
    .await
}
