//! Bounded waiting for the database: under overload an API answers `503` with `Retry-After`
//! at once instead of queueing without end.
//!
//! A request on a route that needs the database takes a permit first; there are as many as
//! the pool has connections plus `HTTP_MAX_WAITING`. With none left the request is answered
//! `503` at once (`http_requests_shed_total{reason="queue_full"}`); one that got a permit but
//! no connection within `DB_ACQUIRE_TIMEOUT_MS` is answered `503` too
//! (`reason="pool_timeout"`, [`crate::problem::database_error`]). Nothing it did is half done:
//! a shed request never started its transaction. Lists served from memory take no permit;
//! a searched or sorted page, which reads the database, does.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::overloaded;

/// The permits of one process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Admission(Arc<Semaphore>);

impl Admission {
    /// `connections` working plus `waiting` in line.
    pub fn new(connections: usize, waiting: usize) -> Self {
        Admission(Arc::new(Semaphore::new(connections + waiting)))
    }

    /// A permit, to hold while the request uses the database; `None`: answer [`shed`].
    pub fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// The answer to a request that found no permit: `503` with `Retry-After`.
pub fn shed() -> Response {
    overloaded("queue_full")
}

/// Middleware: a permit for the request's whole life, or `503` at once.
pub async fn admit(State(admission): State<Admission>, req: Request, next: Next) -> Response {
    match admission.enter() {
        Some(_permit) => next.run(req).await,
        None => shed(),
    }
}
