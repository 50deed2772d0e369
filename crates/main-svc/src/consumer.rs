//! The consumer of queue `main`: applies the catalogue's product events to the mirror.
//!
//! States are applied by version: a state older than (or as old as) the mirrored one is
//! ignored, so duplicated, delayed and reordered deliveries converge on the catalogue. A
//! delete leaves a tombstone and is final: no later create or update brings the product
//! back. States from the original producers carry no version and are applied unless the
//! product is deleted.

use events::{Event, ProductState};
use shop_runtime::consumer::{Handler, Outcome};
use shop_runtime::lists::Change;
use sqlx::MySqlConnection;

use crate::db;

/// The dead-letter reason of a like that arrived on the product queue.
const LIKE_ON_PRODUCT_QUEUE: &str = "like event on the product queue";

#[derive(Debug, Clone, Copy, Default)]
pub struct ProductHandler;

impl Handler for ProductHandler {
    /// The shop's list shows the mirror: every applied event changes it.
    const CHANGES: Option<Change> = Some(Change::Catalogue);
    const DEAD_LETTER_REASONS: &'static [&'static str] = &[LIKE_ON_PRODUCT_QUEUE];

    async fn apply(&self, tx: &mut MySqlConnection, event: &Event) -> Result<Outcome, sqlx::Error> {
        match event {
            Event::ProductCreated(p) | Event::ProductUpdated(p) => apply_state(tx, p).await,
            Event::ProductDeleted(id) => {
                // Read under lock rather than from rows_affected: sqlx connects with
                // CLIENT_FOUND_ROWS, so an unchanged upsert still counts as affected.
                match db::lock_mirror_state(tx, *id).await? {
                    Some(state) if state.deleted => Ok(Outcome::Ignored("already deleted")),
                    _ => {
                        db::tombstone(tx, *id).await?;
                        Ok(Outcome::Applied)
                    }
                }
            }
            Event::ProductLiked(_) | Event::ProductsLiked(_) => {
                Ok(Outcome::DeadLetter(LIKE_ON_PRODUCT_QUEUE))
            }
        }
    }
}

async fn apply_state(tx: &mut MySqlConnection, p: &ProductState) -> Result<Outcome, sqlx::Error> {
    match db::lock_mirror_state(tx, p.id).await? {
        None => {
            db::insert_mirror(tx, p).await?;
            Ok(Outcome::Applied)
        }
        Some(state) if state.deleted => Ok(Outcome::Ignored("product deleted")),
        Some(db::MirrorState {
            version: Some(current),
            ..
        }) if p.version.is_some_and(|v| v <= current) => Ok(Outcome::Ignored("stale version")),
        Some(_) => {
            db::update_mirror(tx, p).await?;
            Ok(Outcome::Applied)
        }
    }
}
