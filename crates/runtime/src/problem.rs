//! The one shape of an error answer, and the one place each kind of error answer is built:
//! `{"error": "…"}` with its status, a database error's `500` (or `503` when no connection
//! came in time), and every answer that asks the client to come back later (`429`, `503`)
//! with a `Retry-After` rounded the same way.
//!
//! Both services' error enums map to HTTP through these functions, so a status, a body and a
//! header mean the same on every route of both APIs.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::metrics::catalog;

/// `{"error": "…"}`: the body of every error answer but field validation errors. The type
/// the OpenAPI documents describe is the one serialised.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = ErrorBody {
        error: message.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// The 500 answer: nothing internal in the body. The caller logs the cause.
pub fn internal_error() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}

/// The answer to a database error, on every route of both APIs. `503` with `Retry-After`
/// when no connection came in time (the database overloaded or unreachable, counted in
/// `http_requests_shed_total{reason="pool_timeout"}`): nothing was done, so sending the
/// request again is safe. Any other error is `500`, logged here with its cause and nothing
/// of it in the body: it may leave the request's outcome unknown (a commit whose answer was
/// lost), so it is not one to simply send again.
pub fn database_error(e: &sqlx::Error) -> Response {
    if matches!(e, sqlx::Error::PoolTimedOut) {
        return overloaded("pool_timeout");
    }
    crate::db::note_error(e);
    tracing::error!(error = %e, "database error");
    internal_error()
}

/// Fallback for paths no route matches.
pub async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not found")
}

/// `413` for a body over the limit.
pub fn payload_too_large() -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Request body is larger than 64 KiB",
    )
}

/// Whole seconds a client is told to wait for `wait`: rounded up (a client told to come back
/// before the limit lifts is refused again), and at least 1 (`Retry-After: 0` invites a
/// client to retry at once, in a loop).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// `status` with `{"error": message}` and `Retry-After` for `wait`.
pub fn retry_later(status: StatusCode, message: &str, wait: Duration) -> Response {
    let mut response = error(status, message);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs(wait)),
    );
    response
}

/// `429`: too many `what` (e.g. "Too many likes from here"); the message says how long to
/// wait, in the same seconds as `Retry-After`.
pub fn too_many_requests(what: &str, wait: Duration) -> Response {
    let secs = retry_after_secs(wait);
    retry_later(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("{what}; try again in {secs} s"),
        wait,
    )
}

/// `503` with `Retry-After: 1` for a request shed under overload, counted by `reason` in
/// `http_requests_shed_total` ([`crate::http::admission`]).
pub fn overloaded(reason: &'static str) -> Response {
    catalog::REQUESTS_SHED.increment([reason]);
    retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is busy; try again in a moment",
        Duration::from_secs(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_seconds_of_at_least_one() {
        let secs = |ms| retry_after_secs(Duration::from_millis(ms));
        assert_eq!(secs(0), 1);
        assert_eq!(secs(1), 1);
        assert_eq!(secs(1000), 1);
        assert_eq!(secs(1001), 2);
        assert_eq!(secs(59_999), 60);
    }

    #[test]
    fn a_429_says_the_same_wait_in_its_header_and_its_message() {
        let response = too_many_requests("Too many likes from here", Duration::from_millis(2300));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }
}
