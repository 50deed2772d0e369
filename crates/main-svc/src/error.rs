//! The one error type of the shop API, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_runtime::http;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("product not found")]
    ProductNotFound,
    #[error("already liked")]
    AlreadyLiked,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Database(e) => http::database_error(&e),
            ApiError::ProductNotFound => http::error(StatusCode::NOT_FOUND, "Product not found"),
            ApiError::AlreadyLiked => {
                http::error(StatusCode::BAD_REQUEST, "You already liked this product.")
            }
        }
    }
}
