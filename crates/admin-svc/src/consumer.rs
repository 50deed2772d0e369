//! The consumer of queue `admin`: each like from the shop adds one to the product's `likes`.

use events::Event;
use shop_runtime::consumer::{Handler, Outcome};
use sqlx::MySqlConnection;

/// Applies `product_liked` events to the catalogue.
#[derive(Debug, Clone, Copy, Default)]
pub struct LikeHandler;

impl Handler for LikeHandler {
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
                Ok(Outcome::DeadLetter("product event on the like queue"))
            }
        }
    }
}
