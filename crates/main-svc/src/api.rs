//! The shop's HTTP API (CONTRACT.md, "main-svc"). Paths keep the original's `/flask/api`
//! prefix for its frontend and nginx routing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use events::Event;
use serde::Serialize;
use shop_runtime::http::RequestTrace;
use shop_runtime::outbox;
use utoipa::ToSchema;

use crate::AppState;
use crate::db::{self, ProductRow};
use crate::error::ApiError;
use crate::shopper;

/// A product as the shop shows it, with the number of likes the shop recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"id": 1, "title": "Mug", "image": "https://example.com/mug.png", "likes": 2}))]
pub struct Product {
    pub id: u64,
    pub title: String,
    pub image: String,
    pub likes: u64,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            title: r.title,
            image: r.image,
            likes: r.likes,
        }
    }
}

/// `{"message": "success"}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Liked {
    pub message: &'static str,
}

/// `{"error": "…"}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// The mirrored catalogue with like counts, ordered by id.
#[utoipa::path(get, path = "/flask/api/products", tag = "shop",
    responses((status = 200, description = "Products, ordered by id", body = [Product])))]
pub async fn list_products(State(state): State<AppState>) -> Result<Json<Vec<Product>>, ApiError> {
    let rows = db::list_products(&state.core.pool).await?;
    Ok(Json(rows.into_iter().map(Product::from).collect()))
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
    let result = like(&state, &trace, &id, &shopper.id).await;
    let mut response = match result {
        Ok(()) => Json(Liked { message: "success" }).into_response(),
        Err(e) => e.into_response(),
    };
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
    tx.commit().await?;
    state.core.outbox.committed();
    Ok(())
}

/// 200 when the database answers and the broker is connected; 503 naming what failed.
#[utoipa::path(get, path = "/flask/api/health", tag = "operations",
    responses((status = 200, description = "Healthy"), (status = 503, description = "A dependency is down")))]
pub async fn health(State(state): State<AppState>) -> Response {
    shop_runtime::health::check(&state.core.pool, &state.core.broker).await
}

/// Prometheus metrics in text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    shop_runtime::metrics::render(&state.core.pool)
}
