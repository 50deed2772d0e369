//! The one error type of the admin API, mapped to HTTP once (through
//! `shop_runtime::problem`, so both services answer an error the same way): the catalogue's
//! errors and sign-in's alike. A database error is `500` wherever it happens (a handler's
//! query, a token lookup, the session store), or `503` with `Retry-After` when no connection
//! came in time.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shop_runtime::problem;

/// Field name to messages: Django REST Framework's validation error shape.
pub type FieldErrors = BTreeMap<&'static str, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("product not found")]
    ProductNotFound,
    #[error("no users available")]
    NoUsers,
    #[error("invalid input: {0:?}")]
    Validation(FieldErrors),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A query parameter is out of range or unknown; the message names it.
    #[error("bad parameter: {0}")]
    BadParameter(String),
    #[error("request body is not JSON")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// No session, or one that ended.
    #[error("no session")]
    SignInRequired,
    #[error("bad or revoked API token")]
    BadToken,
    #[error("wrong email or password")]
    BadCredentials,
    /// Too many failed sign-ins from this address or for this account: wait this long.
    #[error("too many failed sign-ins")]
    Throttled(Duration),
    /// Signed in, but the role may not do this; the message says what.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Something other than a product is not there (`"Token not found"`, `"Unknown link"`).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A one-time link used already or expired; the message says which and what to do.
    #[error("gone: {0}")]
    Gone(&'static str),
    /// A request the current state refuses (the last admin cannot be disabled): `409`; the
    /// message says why.
    #[error("refused: {0}")]
    Refused(String),
    /// A well-formed value that the current state refuses (an email another account has, a
    /// token name in use): `409` with the field's messages, in the shape of a `400`'s.
    #[error("conflict: {0:?}")]
    Conflict(FieldErrors),
    /// The session store failed (its database).
    #[error("session store: {0}")]
    SessionStore(#[from] tower_sessions::session::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let challenge = matches!(
            self,
            ApiError::SignInRequired | ApiError::BadToken | ApiError::BadCredentials
        );
        let mut response = match self {
            ApiError::ProductNotFound => problem::error(StatusCode::NOT_FOUND, "Product not found"),
            ApiError::NoUsers => problem::error(StatusCode::NOT_FOUND, "No users available"),
            ApiError::Validation(errors) => (StatusCode::BAD_REQUEST, Json(errors)).into_response(),
            ApiError::MalformedJson(detail) => problem::error(
                StatusCode::BAD_REQUEST,
                &format!("Malformed JSON: {detail}"),
            ),
            ApiError::BadParameter(message) => problem::error(StatusCode::BAD_REQUEST, &message),
            ApiError::UnsupportedMediaType => problem::error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected a JSON body with Content-Type: application/json",
            ),
            ApiError::PayloadTooLarge => problem::payload_too_large(),
            ApiError::Database(e) => problem::database_error(&e),
            ApiError::SignInRequired => {
                problem::error(StatusCode::UNAUTHORIZED, "Sign in required")
            }
            ApiError::BadToken => {
                problem::error(StatusCode::UNAUTHORIZED, "Invalid or revoked API token")
            }
            ApiError::BadCredentials => {
                problem::error(StatusCode::UNAUTHORIZED, "Invalid email or password")
            }
            ApiError::Throttled(wait) => {
                problem::too_many_requests("Too many failed sign-ins", wait)
            }
            ApiError::Forbidden(message) => problem::error(StatusCode::FORBIDDEN, &message),
            ApiError::NotFound(message) => problem::error(StatusCode::NOT_FOUND, message),
            ApiError::Gone(message) => problem::error(StatusCode::GONE, message),
            ApiError::Refused(message) => problem::error(StatusCode::CONFLICT, &message),
            ApiError::Conflict(errors) => (StatusCode::CONFLICT, Json(errors)).into_response(),
            ApiError::SessionStore(e) => {
                tracing::error!(error = %e, "session store error");
                problem::internal_error()
            }
        };
        if challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="admin""#),
            );
        }
        response
    }
}
