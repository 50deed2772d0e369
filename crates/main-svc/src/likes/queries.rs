//! A batch's multi-row statements: a few statements whatever the batch's size.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use shop_runtime::statement;
use sqlx::{MySqlConnection, QueryBuilder};

/// Of `ids` (ascending, each once), those in the shop (mirrored, not deleted), each held
/// with a shared lock until the transaction ends: likes of one product share it, a delete
/// waits for them, as for a single like.
pub async fn lock_live(
    tx: &mut MySqlConnection,
    ids: &BTreeSet<u64>,
) -> Result<HashSet<u64>, sqlx::Error> {
    let mut q = QueryBuilder::new("SELECT id FROM products WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") AND deleted_at IS NULL ORDER BY id LOCK IN SHARE MODE");
    let live: Vec<u64> = statement::run(
        "lock_liked_live_products",
        "SELECT products",
        q.build_query_scalar().fetch_all(&mut *tx),
    )
    .await?;
    Ok(live.into_iter().collect())
}

/// Of the (product, shopper) `pairs`, those liked before: read through the shoppers' index
/// (new shoppers have no rows at all), exact pairs picked out here.
pub async fn existing_pairs(
    tx: &mut MySqlConnection,
    pairs: &[(u64, &str)],
) -> Result<HashSet<(u64, String)>, sqlx::Error> {
    let shoppers: BTreeSet<&str> = pairs.iter().map(|(_, s)| *s).collect();
    let products: BTreeSet<u64> = pairs.iter().map(|(p, _)| *p).collect();
    let mut q =
        QueryBuilder::new("SELECT product_id, shopper FROM product_likes WHERE shopper IN (");
    let mut list = q.separated(", ");
    for s in &shoppers {
        list.push_bind(*s);
    }
    q.push(") AND product_id IN (");
    let mut list = q.separated(", ");
    for p in &products {
        list.push_bind(*p);
    }
    q.push(")");
    let found: Vec<(u64, String)> = statement::run(
        "read_liked_pairs",
        "SELECT product_likes",
        q.build_query_as().fetch_all(&mut *tx),
    )
    .await?;
    Ok(found.into_iter().collect())
}

/// Records the new likes in one multi-row insert. A pair inserted meanwhile by another
/// transaction fails it with a duplicate key (the batch is then run one like at a time).
pub async fn insert_likes(
    tx: &mut MySqlConnection,
    pairs: &[(u64, &str)],
) -> Result<(), sqlx::Error> {
    let mut q = QueryBuilder::new("INSERT INTO product_likes (product_id, shopper) ");
    q.push_values(pairs, |mut row, (product, shopper)| {
        row.push_bind(*product).push_bind(*shopper);
    });
    statement::run(
        "record_likes",
        "INSERT product_likes",
        q.build().execute(&mut *tx),
    )
    .await?;
    Ok(())
}

/// Adds each (product, shard)'s likes in one multi-row upsert, in key order (two batches
/// lock shared shard rows in the same order), the last statement before the commit.
pub async fn count_likes(
    tx: &mut MySqlConnection,
    shards: &BTreeMap<(u64, u8), u64>,
) -> Result<(), sqlx::Error> {
    let mut q = QueryBuilder::new("INSERT INTO product_like_counts (product_id, shard, likes) ");
    q.push_values(shards, |mut row, ((product, shard), n)| {
        row.push_bind(*product).push_bind(*shard).push_bind(*n);
    });
    q.push(" ON DUPLICATE KEY UPDATE likes = likes + VALUES(likes)");
    statement::run(
        "count_likes",
        "INSERT product_like_counts",
        q.build().execute(&mut *tx),
    )
    .await?;
    Ok(())
}
