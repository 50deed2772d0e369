//! What follows a failed attempt at a message: hold it while the database is unreachable,
//! retry a failing handler a few times, then give up on it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::metrics::catalog;

/// Attempts of a message whose handler fails with a non-transient error before it is
/// dead-lettered.
pub const MAX_ATTEMPTS: u32 = 3;

/// The next step after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// The database is unreachable: keep the message in hand and try again after `delay`.
    /// These waits are not counted: an outage is nobody's fault and may last.
    Hold { delay: Duration },
    /// The handler failed `attempts` times, fewer than [`MAX_ATTEMPTS`]: again after `delay`.
    Retry { delay: Duration, attempts: u32 },
    /// The handler failed [`MAX_ATTEMPTS`] times: the message goes to the dead-letter queue.
    GiveUp { attempts: u32 },
}

/// The retry state of the message in hand.
#[derive(Debug)]
pub(super) struct Retries {
    handler_errors: u32,
    backoff: Backoff,
}

impl Retries {
    pub(super) fn new() -> Self {
        Retries {
            handler_errors: 0,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
        }
    }

    /// Counts the failed attempt (`events_retried_total`, whatever comes next) and says what
    /// to do with the message.
    pub(super) fn after(&mut self, error: &sqlx::Error, event: &'static str) -> Next {
        crate::db::note_error(error);
        // Refused credentials (a rotated password) pass once the secret is read again.
        if crate::db::is_transient(error) || crate::db::is_access_denied(error) {
            catalog::EVENTS_RETRIED.increment([event, "database_unavailable"]);
            return Next::Hold {
                delay: self.backoff.next_delay(),
            };
        }
        self.handler_errors += 1;
        catalog::EVENTS_RETRIED.increment([event, "handler_error"]);
        if self.handler_errors >= MAX_ATTEMPTS {
            Next::GiveUp {
                attempts: self.handler_errors,
            }
        } else {
            Next::Retry {
                delay: self.backoff.next_delay(),
                attempts: self.handler_errors,
            }
        }
    }
}

/// Waits `delay`, unless `cancel` comes first; `false` when it did. A stop must never wait
/// out a backoff: the message in hand, not acked, returns to the queue when the channel
/// closes.
pub(super) async fn pause(delay: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep(delay) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler_error() -> sqlx::Error {
        sqlx::Error::Protocol("the handler failed".into())
    }

    #[test]
    fn a_failing_handler_gets_max_attempts_then_gives_up() {
        let mut retries = Retries::new();
        for attempts in 1..MAX_ATTEMPTS {
            assert!(matches!(
                retries.after(&handler_error(), "product_liked"),
                Next::Retry { attempts: a, .. } if a == attempts
            ));
        }
        assert_eq!(
            retries.after(&handler_error(), "product_liked"),
            Next::GiveUp {
                attempts: MAX_ATTEMPTS
            }
        );
    }

    #[test]
    fn an_unreachable_database_holds_the_message_without_counting_attempts() {
        let mut retries = Retries::new();
        for _ in 0..10 {
            assert!(matches!(
                retries.after(&sqlx::Error::PoolTimedOut, "product_liked"),
                Next::Hold { .. }
            ));
        }
        assert!(matches!(
            retries.after(&handler_error(), "product_liked"),
            Next::Retry { attempts: 1, .. }
        ));
    }

    #[tokio::test]
    async fn a_pause_ends_at_once_on_cancel() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let paused = tokio::time::timeout(
            Duration::from_secs(1),
            pause(Duration::from_secs(60), &cancel),
        )
        .await;
        assert_eq!(paused.ok(), Some(false));
    }
}
