//! The one error type of the admin API, mapped to HTTP once.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_runtime::http;

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
    #[error("request body is not JSON")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::ProductNotFound => http::error(StatusCode::NOT_FOUND, "Product not found"),
            ApiError::NoUsers => http::error(StatusCode::NOT_FOUND, "No users available"),
            ApiError::Validation(errors) => (StatusCode::BAD_REQUEST, Json(errors)).into_response(),
            ApiError::MalformedJson(detail) => http::error(
                StatusCode::BAD_REQUEST,
                &format!("Malformed JSON: {detail}"),
            ),
            ApiError::UnsupportedMediaType => http::error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected a JSON body with Content-Type: application/json",
            ),
            ApiError::PayloadTooLarge => http::payload_too_large(),
            ApiError::Database(e) => http::database_error(&e),
        }
    }
}
