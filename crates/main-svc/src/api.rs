//! The shop's HTTP API (CONTRACT.md, "main-svc"). Paths keep the original's `/flask/api`
//! prefix for its frontend and nginx routing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use events::{Event, Product};
use serde::Serialize;
use shop_runtime::http::{ErrorBody, RequestTrace};
use shop_runtime::outbox;
use utoipa::ToSchema;

use crate::AppState;
use crate::db;
use crate::error::ApiError;
use crate::shopper;

/// `{"message": "success"}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Liked {
    pub message: &'static str,
}

/// The mirrored catalogue with like counts, ordered by id.
#[utoipa::path(get, path = "/flask/api/products", tag = "shop",
    responses((status = 200, description = "Products, ordered by id", body = [Product])))]
pub async fn list_products(State(state): State<AppState>) -> Result<Json<Vec<Product>>, ApiError> {
    Ok(Json(db::list_products(&state.core.pool).await?))
}

/// Likes a product once per shopper. The shopper is the `shopper_id` cookie, issued (HttpOnly)
/// on the first like. The like and its `product_liked` event commit together.
#[utoipa::path(post, path = "/flask/api/products/{id}/like", tag = "shop",
    params(("id" = u64, Path, description = "Product id")),
    responses(
        (status = 200, description = "Liked", body = Liked, headers(("Set-Cookie" = String, description = "shopper_id, on a shopper's first like"))),
        (status = 400, description = "This shopper liked this product before", body = ErrorBody),
        (status = 404, description = "No such product in the shop", body = ErrorBody)))]
pub async fn like_product(
    State(state): State<AppState>,
    Extension(trace): Extension<RequestTrace>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let shopper = shopper::identify(&headers);
    if let Err(e) = like(&state, &trace, &id, &shopper.id).await {
        // A new shopper whose like did not count has nothing to come back to: no cookie.
        return e.into_response();
    }
    let mut response = Json(Liked { message: "success" }).into_response();
    if shopper.is_new {
        response.headers_mut().insert(
            header::SET_COOKIE,
            shopper::set_cookie(&shopper, state.cookie_secure),
        );
    }
    response
}

async fn like(
    state: &AppState,
    trace: &RequestTrace,
    raw_id: &str,
    shopper: &str,
) -> Result<(), ApiError> {
    let id = shop_runtime::http::positive_id(raw_id).ok_or(ApiError::ProductNotFound)?;
    let mut tx = state.core.pool.begin().await?;
    // Counting first locks the product row, so likes of one product serialise and a
    // product deleted meanwhile is a 404.
    if !db::count_like(&mut tx, id).await? {
        return Err(ApiError::ProductNotFound);
    }
    if !db::record_like(&mut tx, id, shopper).await? {
        // Dropping the transaction rolls the count back.
        return Err(ApiError::AlreadyLiked);
    }
    let message = trace.message(&Event::ProductLiked(id));
    outbox::enqueue(&mut tx, &message).await?;
    shop_runtime::statement::commit(tx).await?;
    state.core.outbox.committed();
    Ok(())
}
