//! One like in a transaction of its own: the path of a batch that failed, retried one like
//! at a time, each with the original's single `product_liked` event.

use events::{Event, OutgoingMessage};
use shop_runtime::outbox;

use super::Like;
use crate::db;
use crate::error::ApiError;

/// Commits `like` alone, running it again when InnoDB rolled it back for a deadlock (two
/// first likes of a product creating its count's shard rows).
pub async fn like(pool: &sqlx::MySqlPool, like: &Like) -> Result<(), ApiError> {
    let message =
        OutgoingMessage::new(&Event::ProductLiked(like.product), Some(like.trace.clone()));
    let shard = shard_of(&like.shopper);
    let mut attempt = 1;
    loop {
        match like_once(pool, like, shard, &message).await {
            Err(ApiError::Database(e)) if attempt < 3 && shop_runtime::db::is_deadlock(&e) => {
                attempt += 1;
            }
            result => break result,
        }
    }
}

/// One try, in one transaction of four statements: the like (which also proves the product
/// live and holds it so until the commit), the event, the count, the commit.
async fn like_once(
    pool: &sqlx::MySqlPool,
    like: &Like,
    shard: u8,
    message: &OutgoingMessage,
) -> Result<(), ApiError> {
    let mut tx = pool.begin().await?;
    if !db::record_like(&mut tx, like.product, &like.shopper).await? {
        // Nothing recorded: the product is not in the shop, or this shopper liked it.
        return Err(if db::is_live(&mut tx, like.product).await? {
            ApiError::AlreadyLiked
        } else {
            ApiError::ProductNotFound
        });
    }
    outbox::enqueue(&mut tx, message).await?;
    db::count_like(&mut tx, like.product, shard).await?;
    shop_runtime::statement::commit(tx).await?;
    Ok(())
}

/// The count shard a shopper's likes go to: shoppers are random ids, so their likes spread
/// evenly over a product's shards, and likes of one product rarely wait for each other.
pub fn shard_of(shopper: &str) -> u8 {
    let hash = shopper.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (hash % u32::from(db::COUNT_SHARDS)) as u8
}
