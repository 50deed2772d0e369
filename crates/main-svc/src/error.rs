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
    #[error("too many likes")]
    TooManyLikes(std::time::Duration),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Database(e) => http::database_error(&e),
            ApiError::ProductNotFound => http::error(StatusCode::NOT_FOUND, "Product not found"),
            ApiError::AlreadyLiked => {
                http::error(StatusCode::BAD_REQUEST, "You already liked this product.")
            }
            ApiError::TooManyLikes(wait) => {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                let mut r = http::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("Too many likes from here; try again in {secs} s"),
                );
                if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                }
                r
            }
        }
    }
}
