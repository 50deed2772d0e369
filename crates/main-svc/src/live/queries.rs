//! The live counts' queries: which likes came (by `product_likes.seq`) and what the liked
//! products' counts are now. Each is one short statement on a pooled connection, given back
//! at once: a stream never holds a connection.

use shop_runtime::statement;
use sqlx::{MySqlPool, QueryBuilder};

/// The numbers of the newest `n` likes, newest first: where a starting poller begins, and
/// which numbers below the newest are not committed yet ([`super::poller`]).
pub async fn newest_likes(pool: &MySqlPool, n: u32) -> Result<Vec<u64>, sqlx::Error> {
    statement::run(
        "live_newest_likes",
        "SELECT product_likes",
        sqlx::query_scalar("SELECT seq FROM product_likes ORDER BY seq DESC LIMIT ?")
            .bind(n)
            .fetch_all(pool),
    )
    .await
}

/// The number of the newest like, 0 when there is none.
pub async fn newest_like(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    statement::run(
        "live_newest_like",
        "SELECT product_likes",
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS UNSIGNED) FROM product_likes")
            .fetch_one(pool),
    )
    .await
}

/// Likes numbered after `after`, or numbered one of `also` (numbers seen missing before:
/// likes not committed yet then), as `(seq, product_id)` in number order, at most `limit`.
pub async fn likes_since(
    pool: &MySqlPool,
    after: u64,
    also: &[u64],
    limit: u32,
) -> Result<Vec<(u64, u64)>, sqlx::Error> {
    let mut q = QueryBuilder::new("SELECT seq, product_id FROM product_likes WHERE seq > ");
    q.push_bind(after);
    if !also.is_empty() {
        q.push(" OR seq IN (");
        let mut ids = q.separated(", ");
        for seq in also {
            ids.push_bind(*seq);
        }
        q.push(")");
    }
    q.push(" ORDER BY seq LIMIT ").push_bind(limit);
    statement::run(
        "live_likes_since",
        "SELECT product_likes",
        q.build_query_as().fetch_all(pool),
    )
    .await
}

/// The like counts (the sum of their shards) of `ids`, as `(id, likes)` by id; a product
/// with no count row yet is left out.
pub async fn counts_of(pool: &MySqlPool, ids: &[u64]) -> Result<Vec<(u64, u64)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::new(
        "SELECT product_id, CAST(SUM(likes) AS UNSIGNED) FROM product_like_counts WHERE product_id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") GROUP BY product_id ORDER BY product_id");
    statement::run(
        "live_counts_of",
        "SELECT product_like_counts",
        q.build_query_as().fetch_all(pool),
    )
    .await
}
