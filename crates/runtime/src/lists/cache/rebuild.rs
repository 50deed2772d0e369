//! How a list is rebuilt: one rebuild at a time, by the first request that needs it, and
//! every request waiting for it woken at once when it ends ([`Listing::wait_for_rebuild`]).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::{Freshness, Listing, Snapshot};

#[derive(Default)]
pub(super) struct Rebuilding {
    running: bool,
}

/// What the last rebuild came to: `None`, a new snapshot (in `Inner::snapshot`).
#[derive(Clone, Default)]
pub(super) struct Published {
    failure: Option<Failure>,
}

#[derive(Clone)]
pub(super) struct Failure {
    at: Instant,
    pool_timeout: bool,
    message: Arc<str>,
}

impl Failure {
    /// The error a waiting request answers with: a pool timeout stays one (a `503`).
    fn error(&self) -> sqlx::Error {
        if self.pool_timeout {
            sqlx::Error::PoolTimedOut
        } else {
            sqlx::Error::Protocol(format!("the list could not be read: {}", self.message))
        }
    }
}

impl Listing {
    /// Waits until the snapshot held was read after `arrived` (it holds every change
    /// committed before the request, this client's own likes included, so it is served even
    /// if newer changes made it stale since), or is fresh; or until a rebuild that ended
    /// after `arrived` failed. One waiting request at a time rebuilds ([`Listing::try_lead`]);
    /// the others wait for it.
    ///
    /// Every waiting request is woken at once when a rebuild ends (a `watch`): before, they
    /// queued on a lock and took it in turn, and under overload each turn waited for its HTTP
    /// thread to get round to it behind a thousand other connections: 200 readers waited up
    /// to 10 s for rebuilds of a few milliseconds.
    pub(super) async fn wait_for_rebuild(
        &self,
        mut published: watch::Receiver<Published>,
        arrived: Instant,
    ) -> Result<Arc<Snapshot>, sqlx::Error> {
        loop {
            if let Some(s) = self.held()
                && (s.built >= arrived || self.freshness(&s) == Freshness::Fresh)
            {
                return Ok(s);
            }
            if let Some(failure) = &published.borrow_and_update().failure
                && failure.at >= arrived
            {
                return Err(failure.error());
            }
            // A rebuild that began before this request arrived does not do: one more after it.
            if self.try_lead() {
                self.lead().await;
                continue;
            }
            if published.changed().await.is_err() {
                return Err(sqlx::Error::PoolClosed);
            }
        }
    }

    /// Whether this request is to rebuild now: none does. It must then [`Listing::lead`].
    pub(super) fn try_lead(&self) -> bool {
        let mut state = self
            .inner
            .rebuilding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        !std::mem::replace(&mut state.running, true)
    }

    /// Rebuilds once, then tells every waiting request; whether it failed.
    ///
    /// The rebuild runs in the request that leads, on its own thread. Run as a task of the
    /// process's runtime instead (tried), its reads went through pooled connections whose
    /// sockets the HTTP threads' runtimes drive, and took three times as long under the list
    /// load (3.8 ms against 1.2 ms a rebuild).
    pub(super) async fn lead(&self) -> Option<Failure> {
        // A panic, or this request dropped half way, must not leave the others waiting.
        let mut turn = Unstick {
            listing: self.clone(),
            finished: false,
        };
        let failure = match self.rebuild_here().await {
            Ok(_) => None,
            Err(e) => {
                crate::db::note_error(&e);
                tracing::warn!(error = %e, list = self.inner.name, "cannot rebuild the list");
                Some(Failure {
                    at: Instant::now(),
                    pool_timeout: matches!(e, sqlx::Error::PoolTimedOut),
                    message: e.to_string().into(),
                })
            }
        };
        turn.finished = true;
        // Not leading before telling: a request woken by this finds it may lead the next.
        self.inner
            .rebuilding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .running = false;
        self.inner.published.send_replace(Published {
            failure: failure.clone(),
        });
        failure
    }
}

/// Ends a rebuild's turn however it ends: when the leading request is dropped half way (a
/// stop) or its rebuild panics, the turn is given up and the waiting requests are woken, so
/// that one of them leads the next rebuild rather than all waiting for ever.
struct Unstick {
    listing: Listing,
    finished: bool,
}

impl Drop for Unstick {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let inner = &self.listing.inner;
        inner
            .rebuilding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .running = false;
        inner.published.send_replace(Published::default());
    }
}
