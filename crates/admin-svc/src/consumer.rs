//! The consumer of queue `admin`: each like from the shop adds one to the product's `likes`;
//! a batch of likes (`products_liked`, one per main-api group commit) adds each product's
//! count, all in the one transaction that records the message as processed, so a redelivered
//! batch changes nothing.

use events::Event;
use shop_runtime::consumer::{Handler, Outcome};
use shop_runtime::lists::Change;
use sqlx::MySqlConnection;

/// Applies `product_liked` and `products_liked` events to the catalogue.
#[derive(Debug, Clone, Copy, Default)]
pub struct LikeHandler;

impl Handler for LikeHandler {
    /// The catalogue's list shows the counts.
    const CHANGES: Option<Change> = Some(Change::Counts);
    const DEAD_LETTER_REASONS: &'static [&'static str] = &[WRONG_QUEUE];

    async fn apply(&self, tx: &mut MySqlConnection, event: &Event) -> Result<Outcome, sqlx::Error> {
        match event {
            Event::ProductLiked(id) => {
                if crate::db::add_like(tx, *id).await? {
                    Ok(Outcome::Applied)
                } else {
                    // Deleted from the catalogue after the shopper liked it.
                    Ok(Outcome::Ignored("no such product"))
                }
            }
            Event::ProductsLiked(likes) => {
                // A product named twice (not what main-api writes) gains both counts.
                let mut per_product: std::collections::BTreeMap<u64, u64> = Default::default();
                for like in likes {
                    *per_product.entry(like.id).or_default() += like.count;
                }
                let per_product: Vec<(u64, u64)> = per_product.into_iter().collect();
                let found = crate::db::add_likes(tx, &per_product).await?;
                Ok(if found.is_empty() && !likes.is_empty() {
                    Outcome::Ignored("no such product")
                } else {
                    // The likes of products deleted since are dropped, as a single like's.
                    Outcome::Applied
                })
            }
            Event::ProductCreated(_) | Event::ProductUpdated(_) | Event::ProductDeleted(_) => {
                Ok(Outcome::DeadLetter(WRONG_QUEUE))
            }
        }
    }

    /// The likes of a batch in two statements, however many: a product liked 300 times in
    /// it gains 300 in one update (a product going viral is one row, written once per
    /// batch instead of once per like).
    async fn apply_batch(
        &self,
        tx: &mut MySqlConnection,
        events: &[&Event],
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        let mut per_product: std::collections::BTreeMap<u64, u64> = Default::default();
        for event in events {
            match event {
                Event::ProductLiked(id) => *per_product.entry(*id).or_default() += 1,
                Event::ProductsLiked(likes) => {
                    for like in likes {
                        *per_product.entry(like.id).or_default() += like.count;
                    }
                }
                _ => return Ok(vec![Outcome::DeadLetter(WRONG_QUEUE)]),
            }
        }
        let per_product: Vec<(u64, u64)> = per_product.into_iter().collect();
        let found = crate::db::add_likes(tx, &per_product).await?;
        Ok(events
            .iter()
            .map(|event| match event {
                Event::ProductLiked(id) if found.contains(id) => Outcome::Applied,
                Event::ProductsLiked(likes)
                    if likes.is_empty() || likes.iter().any(|l| found.contains(&l.id)) =>
                {
                    Outcome::Applied
                }
                _ => Outcome::Ignored("no such product"),
            })
            .collect())
    }
}

const WRONG_QUEUE: &str = "product event on the like queue";
