//! What the databases hold: outboxes drained, and every write whole.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::{Check, Inspector};
use crate::ShopStack;

/// Both outboxes drain to zero within `within`.
pub async fn outbox_drained(
    stack: &ShopStack,
    inspector: &mut Inspector,
    within: Duration,
) -> Check {
    let start = Instant::now();
    loop {
        let admin = inspector.pending_outbox(&stack.admin_db.name).await;
        let main = inspector.pending_outbox(&stack.main_db.name).await;
        if admin == 0 && main == 0 {
            return Ok(format!(
                "outboxes drained in {:.1} s",
                start.elapsed().as_secs_f64()
            ));
        }
        if start.elapsed() >= within {
            return Err(format!(
                "outbox not drained after {within:?}: admin {admin} unpublished, main {main} unpublished"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each like committed whole or not at all, in the main database: for every product, its
/// like count (the sum of its shards) equals its `product_likes` rows and the likes of its
/// outbox events (`product_liked` rows, and its counts in `products_liked` batches).
pub async fn likes_whole(stack: &ShopStack, inspector: &mut Inspector) -> Check {
    let db = &stack.main_db.name;
    let counted: BTreeMap<u64, u64> = inspector
        .pairs(&format!(
            "SELECT CAST(product_id AS SIGNED), CAST(SUM(likes) AS SIGNED) FROM `{db}`.product_like_counts GROUP BY product_id"
        ))
        .await
        .into_iter()
        .collect();
    let rows: HashMap<u64, u64> = inspector
        .pairs(&format!(
            "SELECT CAST(product_id AS SIGNED), COUNT(*) FROM `{db}`.product_likes GROUP BY product_id"
        ))
        .await
        .into_iter()
        .collect();
    let events: HashMap<u64, u64> = inspector.outbox_likes(db).await;
    let ids: BTreeSet<u64> = counted
        .keys()
        .chain(rows.keys())
        .chain(events.keys())
        .copied()
        .collect();
    let mut wrong = Vec::new();
    for id in &ids {
        let c = counted.get(id).copied().unwrap_or(0);
        let r = rows.get(id).copied().unwrap_or(0);
        let e = events.get(id).copied().unwrap_or(0);
        if c != r || c != e {
            wrong.push(format!(
                "product {id}: likes {c}, product_likes rows {r}, likes in events {e}"
            ));
        }
    }
    if wrong.is_empty() {
        Ok(format!(
            "{} likes over {} products, each with its row and event",
            counted.values().sum::<u64>(),
            counted.len()
        ))
    } else {
        Err(format!(
            "likes applied in part ({} products): {}",
            wrong.len(),
            wrong
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

/// Each product write committed whole or not at all, in the admin database: every product
/// has exactly one `product_created` event and a version of one plus its `product_updated`
/// events; every product created and gone has exactly one `product_deleted` event; no
/// `product_deleted` event names a product still there.
pub async fn catalogue_whole(stack: &ShopStack, inspector: &mut Inspector) -> Check {
    let db = &stack.admin_db.name;
    let products: BTreeMap<u64, u64> = inspector
        .pairs(&format!(
            "SELECT CAST(id AS SIGNED), CAST(version AS SIGNED) FROM `{db}`.products"
        ))
        .await
        .into_iter()
        .collect();
    let mut counts: BTreeMap<u64, [u64; 3]> = BTreeMap::new();
    for (i, kind) in ["product_created", "product_updated", "product_deleted"]
        .into_iter()
        .enumerate()
    {
        for id in inspector.outbox_ids(db, kind).await {
            counts.entry(id).or_default()[i] += 1;
        }
    }
    let mut wrong = Vec::new();
    let ids: BTreeSet<u64> = products.keys().chain(counts.keys()).copied().collect();
    for id in &ids {
        let [created, updated, deleted] = counts.get(id).copied().unwrap_or_default();
        match products.get(id) {
            Some(&version) if created != 1 || deleted != 0 || version != 1 + updated => {
                wrong.push(format!(
                    "product {id} (version {version}): {created} created, {updated} updated, {deleted} deleted events"
                ));
            }
            None if created != 1 || deleted != 1 => wrong.push(format!(
                "product {id} (gone): {created} created, {deleted} deleted events"
            )),
            _ => {}
        }
    }
    if wrong.is_empty() {
        let total = |i: usize| counts.values().map(|c| c[i]).sum::<u64>();
        Ok(format!(
            "{} products ({} created, {} updated, {} deleted), each with its events",
            products.len(),
            total(0),
            total(1),
            total(2)
        ))
    } else {
        Err(format!(
            "product writes applied in part ({}): {}",
            wrong.len(),
            wrong
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}
