//! The one error type of the shop API, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_runtime::http;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("product not found")]
    ProductNotFound,
    #[error("already liked")]
    AlreadyLiked,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::ProductNotFound => http::error(StatusCode::NOT_FOUND, "Product not found"),
            ApiError::AlreadyLiked => {
                http::error(StatusCode::BAD_REQUEST, "You already liked this product.")
            }
            ApiError::Database(e) => {
                tracing::error!(error = %e, "database error");
                http::internal_error()
            }
        }
    }
}
