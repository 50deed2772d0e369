//! How a list is rebuilt: one rebuild at a time, as a task of the process's own runtime, and
//! every request waiting for it woken at once when it ends ([`Listing::refresh`]).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::{Freshness, Listing, Snapshot};

#[derive(Default)]
pub(super) struct Rebuilding {
    running: bool,
    again: bool,
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
    /// after `arrived` failed.
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
            self.refresh();
            if published.changed().await.is_err() {
                return Err(sqlx::Error::PoolClosed);
            }
        }
    }

    /// Starts a rebuild unless one runs (then one more runs after it); whether this call
    /// started one. Rebuilds run as tasks of the process's own runtime, never on a request's
    /// HTTP thread: under overload a thread may have a thousand other connections' tasks
    /// queued, and every read of the list's rows waited for its turn behind them (a
    /// 100-product read took 0.6 s). Detached, a rebuild also ends whatever its requests do.
    pub(super) fn refresh(&self) -> bool {
        {
            let mut state = self
                .inner
                .rebuilding
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.running {
                state.again = true;
                return false;
            }
            state.running = true;
            state.again = false;
        }
        let this = self.clone();
        let task = async move { this.rebuild_while_asked().await };
        match &self.inner.runtime {
            Some(runtime) => drop(runtime.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
        true
    }

    /// Rebuilds, and again while requests asked for it meanwhile; publishes each outcome.
    async fn rebuild_while_asked(self) {
        // A panic in a rebuild must not leave the waiting requests waiting for ever.
        let mut turn = Unstick {
            listing: self.clone(),
            finished: false,
        };
        loop {
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
            self.inner.published.send_replace(Published { failure });
            let mut state = self
                .inner
                .rebuilding
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !state.again {
                state.running = false;
                turn.finished = true;
                return;
            }
            state.again = false;
        }
    }
}

/// Ends a rebuild's turn however its task ends: a panic, or the task dropped with its
/// runtime, publishes a failure, so that the requests waiting for it answer rather than
/// wait, and the next request starts another.
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
        let mut state = inner
            .rebuilding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.running = false;
        state.again = false;
        inner.published.send_replace(Published {
            failure: Some(Failure {
                at: Instant::now(),
                pool_timeout: false,
                message: "the rebuild stopped half way".into(),
            }),
        });
    }
}
