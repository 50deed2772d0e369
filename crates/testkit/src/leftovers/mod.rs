//! What clients that hang up (see [`crate::hangup`]) must not leave behind, checked against
//! the running [`ShopStack`] and MariaDB itself: pool connections still checked out,
//! transactions left open on idle connections, an outbox that does not drain, stale reads,
//! half-applied writes, a mirror that does not converge.
//!
//! Each check returns `Ok` with its figures for the test's summary line, or `Err` saying
//! what is wrong, so that a test can run them all and report every failure at once.

mod inspector;
mod pools;
mod queues;
mod reads;
mod stored;

use std::time::Duration;

pub use self::inspector::{IdleTransaction, Inspector};
pub use self::pools::{
    gauge, no_idle_transactions, pool, pools_returned, read_on_every_connection,
};
pub use self::queues::queues_drained;
pub use self::reads::{catalogue, converged, fresh_reads, shop};
pub use self::stored::{catalogue_whole, likes_whole, outbox_drained};
use crate::ShopStack;

/// A check's figures, or what is wrong.
pub type Check = Result<String, String>;

/// Every check of what traffic left behind, in the order that makes each meaningful: the
/// mirror catches up (within `catch_up`: hung-up writes ran to their end, so the relays and
/// consumers may have a backlog; the time it took is a figure, not a verdict), then the
/// outboxes have no unpublished row left, no pool connection is checked out and no
/// transaction is open on an idle one, then new writes are seen by every read, then every
/// like and product write is whole in the databases.
pub async fn after_traffic(
    stack: &ShopStack,
    inspector: &mut Inspector,
    catch_up: Duration,
) -> Vec<(&'static str, Check)> {
    let client = &stack.client;
    let mut checks = vec![("converged", converged(client, catch_up).await)];
    checks.push((
        "outbox drains",
        outbox_drained(stack, inspector, Duration::from_secs(2)).await,
    ));
    checks.push((
        "pool connections back",
        pools_returned(stack, inspector, Duration::from_secs(5)).await,
    ));
    read_on_every_connection(client, 25).await;
    checks.push((
        "no open transaction",
        no_idle_transactions(stack, inspector, Duration::from_secs(3)).await,
    ));
    checks.push((
        "fresh reads",
        fresh_reads(client, 200, Duration::from_secs(5)).await,
    ));
    checks.push(("likes whole", likes_whole(stack, inspector).await));
    checks.push((
        "product writes whole",
        catalogue_whole(stack, inspector).await,
    ));
    checks
}
