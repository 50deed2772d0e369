//! The broker's side: nothing left in the stack's queues.

use std::time::{Duration, Instant};

use super::Check;
use crate::ShopStack;

/// Both of the stack's queues hold no ready message within `within` (what the consumers
/// hold unacked is not counted: after the mirror converged they have acked everything), and
/// each still has a consumer.
pub async fn queues_drained(stack: &ShopStack, within: Duration) -> Check {
    let deadline = Instant::now() + within;
    let start = Instant::now();
    loop {
        let broker = stack.broker().await;
        let mut left = Vec::new();
        for q in [&stack.main_queue, &stack.admin_queue] {
            match broker.counts(q).await {
                Ok((0, consumers)) if consumers > 0 => {}
                Ok((ready, consumers)) => {
                    left.push(format!("{q}: {ready} ready, {consumers} consumers"));
                }
                Err(e) => left.push(format!("{q}: {e}")),
            }
        }
        if left.is_empty() {
            return Ok(format!(
                "queues drained in {:.1} s",
                start.elapsed().as_secs_f64()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "queues not drained after {within:?}: {}",
                left.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
