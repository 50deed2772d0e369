//! Nothing lost or doubled: what the load generator was answered (its tally) against both
//! services' rows, once the pipeline has drained.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Deserialize;
use sqlx::MySqlPool;

/// loadgen's `LOADGEN_TALLY` (crates/loadgen/src/tally.rs).
#[derive(Debug, Default, Deserialize)]
pub struct Tally {
    pub likes_ok: BTreeMap<u64, u64>,
    pub likes_refused: u64,
    pub likes_unsure: u64,
    pub created: Vec<u64>,
    pub creates_unsure: u64,
    pub renamed: u64,
}

/// The rows of both services.
#[derive(Debug, Default)]
pub struct Rows {
    /// main: `product_likes` rows per product.
    pub shop_likes: BTreeMap<u64, u64>,
    /// main: the sum of `product_like_counts` shards per product.
    pub shop_counts: BTreeMap<u64, u64>,
    /// admin: `products.likes`, and `version`, per product.
    pub catalogue: BTreeMap<u64, (u64, u64)>,
    /// main: the mirror's `version` per product not deleted.
    pub mirror: BTreeMap<u64, u64>,
}

async fn pairs(pool: &MySqlPool, sql: &str) -> Result<BTreeMap<u64, u64>> {
    let rows: Vec<(u64, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(k, v)| (k, v.max(0) as u64))
        .collect())
}

impl Rows {
    pub async fn read(pool: &MySqlPool, admin: &str, main: &str) -> Result<Self> {
        let catalogue: Vec<(u64, u64, u64)> = sqlx::query_as(&format!(
            "SELECT id, likes, version FROM `{admin}`.products"
        ))
        .fetch_all(pool)
        .await?;
        Ok(Rows {
            shop_likes: pairs(
                pool,
                &format!("SELECT product_id, COUNT(*) FROM `{main}`.product_likes GROUP BY product_id"),
            )
            .await?,
            shop_counts: pairs(
                pool,
                &format!(
                    "SELECT product_id, CAST(SUM(likes) AS SIGNED) FROM `{main}`.product_like_counts GROUP BY product_id"
                ),
            )
            .await?,
            catalogue: catalogue.into_iter().map(|(id, l, v)| (id, (l, v))).collect(),
            mirror: pairs(
                pool,
                &format!(
                    "SELECT id, CAST(COALESCE(version, 0) AS SIGNED) FROM `{main}`.products WHERE deleted_at IS NULL"
                ),
            )
            .await?,
        })
    }
}

/// The comparison, each figure with what it must be.
#[derive(Debug, Default, PartialEq)]
pub struct Verdict {
    pub likes_answered_200: u64,
    pub likes_unsure: u64,
    pub shop_like_rows: u64,
    /// Likes answered 200 missing from the shop's rows (summed per product).
    pub likes_lost_by_shop: u64,
    /// Rows beyond the 200s and every like whose answer never came.
    pub likes_beyond_sent: u64,
    /// Per product, the shop's count shards against its rows: |difference| summed.
    pub shard_mismatch: u64,
    /// Per product, the catalogue's count below the shop's rows (lost events), summed.
    pub likes_lost_in_pipeline: u64,
    /// Per product, the catalogue's count above the shop's rows (doubled), summed.
    pub likes_doubled_in_pipeline: u64,
    pub created_201: u64,
    /// Products answered 201 missing from the catalogue or the shop's mirror.
    pub products_lost: u64,
    /// Products in the catalogue whose mirror is missing or at another version.
    pub mirror_behind: u64,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.likes_lost_by_shop == 0
            && self.likes_beyond_sent == 0
            && self.shard_mismatch == 0
            && self.likes_lost_in_pipeline == 0
            && self.likes_doubled_in_pipeline == 0
            && self.products_lost == 0
            && self.mirror_behind == 0
    }

    /// Converged: the catalogue and the mirror agree with the shop (what waiting for the
    /// pipeline to drain looks for).
    pub fn converged(&self) -> bool {
        self.likes_lost_in_pipeline == 0
            && self.likes_doubled_in_pipeline == 0
            && self.mirror_behind == 0
    }
}

pub fn compare(tally: &Tally, rows: &Rows) -> Verdict {
    let mut v = Verdict {
        likes_answered_200: tally.likes_ok.values().sum(),
        likes_unsure: tally.likes_unsure,
        shop_like_rows: rows.shop_likes.values().sum(),
        created_201: tally.created.len() as u64,
        ..Verdict::default()
    };
    for (id, ok) in &tally.likes_ok {
        let have = rows.shop_likes.get(id).copied().unwrap_or(0);
        v.likes_lost_by_shop += ok.saturating_sub(have);
    }
    v.likes_beyond_sent = v
        .shop_like_rows
        .saturating_sub(v.likes_answered_200 + v.likes_unsure);
    for (id, rows_n) in &rows.shop_likes {
        let shards = rows.shop_counts.get(id).copied().unwrap_or(0);
        v.shard_mismatch += shards.abs_diff(*rows_n);
        let counted = rows.catalogue.get(id).map_or(0, |(likes, _)| *likes);
        v.likes_lost_in_pipeline += rows_n.saturating_sub(counted);
        v.likes_doubled_in_pipeline += counted.saturating_sub(*rows_n);
    }
    for (id, (likes, _)) in &rows.catalogue {
        if !rows.shop_likes.contains_key(id) {
            v.likes_doubled_in_pipeline += likes;
        }
    }
    for id in &tally.created {
        if !rows.catalogue.contains_key(id) || !rows.mirror.contains_key(id) {
            v.products_lost += 1;
        }
    }
    for (id, (_, version)) in &rows.catalogue {
        if rows.mirror.get(id) != Some(version) {
            v.mirror_behind += 1;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(shop: &[(u64, u64)], catalogue: &[(u64, u64)]) -> Rows {
        Rows {
            shop_likes: shop.iter().copied().collect(),
            shop_counts: shop.iter().copied().collect(),
            catalogue: catalogue.iter().map(|(id, l)| (*id, (*l, 1))).collect(),
            mirror: catalogue.iter().map(|(id, _)| (*id, 1)).collect(),
        }
    }

    fn tally(likes: &[(u64, u64)], unsure: u64) -> Tally {
        Tally {
            likes_ok: likes.iter().copied().collect(),
            likes_unsure: unsure,
            created: vec![1, 2],
            ..Tally::default()
        }
    }

    #[test]
    fn exact_counts_pass_and_unanswered_likes_may_have_counted() {
        let v = compare(
            &tally(&[(1, 5), (2, 3)], 2),
            &rows(&[(1, 6), (2, 3)], &[(1, 6), (2, 3)]),
        );
        assert!(v.ok(), "{v:?}");
        assert_eq!(v.shop_like_rows, 9);
    }

    #[test]
    fn a_lost_or_doubled_like_is_named() {
        let t = tally(&[(1, 5), (2, 3)], 0);
        let lost = compare(&t, &rows(&[(1, 4), (2, 3)], &[(1, 4), (2, 3)]));
        assert_eq!(lost.likes_lost_by_shop, 1);
        let doubled = compare(&t, &rows(&[(1, 5), (2, 3)], &[(1, 6), (2, 3)]));
        assert_eq!(doubled.likes_doubled_in_pipeline, 1);
        let dropped = compare(&t, &rows(&[(1, 5), (2, 3)], &[(1, 5), (2, 1)]));
        assert_eq!(dropped.likes_lost_in_pipeline, 2);
        let extra = compare(&t, &rows(&[(1, 6), (2, 3)], &[(1, 6), (2, 3)]));
        assert_eq!(extra.likes_beyond_sent, 1);
        for v in [lost, doubled, dropped, extra] {
            assert!(!v.ok());
        }
    }

    #[test]
    fn a_product_missing_from_the_mirror_is_lost() {
        let t = tally(&[], 0);
        let mut r = rows(&[], &[(1, 0), (2, 0)]);
        r.mirror.remove(&2);
        let v = compare(&t, &r);
        assert_eq!((v.products_lost, v.mirror_behind), (1, 1));
    }
}
