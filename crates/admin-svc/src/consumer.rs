//! The consumer of queue `admin`: each like from the shop adds one to the product's `likes`.

use events::Event;
use shop_runtime::consumer::{Handler, Outcome};
use shop_runtime::lists::Change;
use sqlx::MySqlConnection;

/// Applies `product_liked` events to the catalogue.
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
        let mut per_product: Vec<(u64, u64)> = Vec::new();
        for event in events {
            let Event::ProductLiked(id) = event else {
                return Ok(vec![Outcome::DeadLetter(WRONG_QUEUE)]);
            };
            match per_product.iter_mut().find(|(p, _)| p == id) {
                Some((_, n)) => *n += 1,
                None => per_product.push((*id, 1)),
            }
        }
        let found = crate::db::add_likes(tx, &per_product).await?;
        Ok(events
            .iter()
            .map(|event| match event {
                Event::ProductLiked(id) if found.contains(id) => Outcome::Applied,
                _ => Outcome::Ignored("no such product"),
            })
            .collect())
    }
}

const WRONG_QUEUE: &str = "product event on the like queue";
