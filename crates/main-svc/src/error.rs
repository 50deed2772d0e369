//! The one error type of the shop API, mapped to HTTP once (through
//! `shop_runtime::problem`, so every service answers an error the same way).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_runtime::problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("product not found")]
    ProductNotFound,
    #[error("already liked")]
    AlreadyLiked,
    #[error("too many likes")]
    TooManyLikes(std::time::Duration),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Database(e) => problem::database_error(&e),
            ApiError::ProductNotFound => problem::error(StatusCode::NOT_FOUND, "Product not found"),
            ApiError::AlreadyLiked => {
                problem::error(StatusCode::BAD_REQUEST, "You already liked this product.")
            }
            ApiError::TooManyLikes(wait) => {
                problem::too_many_requests("Too many likes from here", wait)
            }
        }
    }
}
