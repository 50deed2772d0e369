//! The shop's HTTP API (docs/contract.md, "main-svc: the shop front"). Paths keep the
//! original's `/flask/api` prefix for its frontend and nginx routing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use events::Product;
use serde::Serialize;
use shop_runtime::http::admission;
use shop_runtime::http::{ClientIp, RequestTrace};
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{Busy, CrossSiteRefused, PageQuery, ProductId, SearchQuery};
use utoipa::ToSchema;

use crate::AppState;
use crate::db;
use crate::error::ApiError;
use crate::likes::{Like, QueueFull};
use crate::shopper;

/// `{"message": "success"}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Liked {
    pub message: &'static str,
}

/// The mirrored catalogue with like counts, ordered by id; served from memory (gzip or
/// brotli when accepted, `ETag`), like counts at most `LIST_COUNTS_MAX_AGE_MS` late. With
/// `limit`, `after` or `q`, one page; with `q`, of the products whose title matches, found
/// through the search index.
#[utoipa::path(get, path = "/flask/api/products", tag = "shop",
    params(PageQuery, SearchQuery),
    responses(
        (status = 200, description = "Products, ordered by id; a page that is not the last has a `Link: <…>; rel=\"next\"` header", body = [Product]),
        (status = 304, description = "Not modified since the `ETag` sent in `If-None-Match`"),
        (status = 400, description = "A paging parameter is not a whole number in range, or `q` is over 200 characters", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn list_products(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    state
        .list
        .respond("/flask/api/products", uri.query(), &headers)
        .await
}

/// Likes a product once per shopper. The shopper is the `shopper_id` cookie, issued (HttpOnly)
/// on the first like. The like commits with others that arrive at the same time (one
/// transaction, one `products_liked` event: [`crate::likes`]); each gets its own answer.
#[utoipa::path(post, path = "/flask/api/products/{id}/like", tag = "shop",
    params(("id" = inline(ProductId), Path, description = "Product id")),
    responses(
        (status = 200, description = "Liked", body = Liked, headers(("Set-Cookie" = String, description = "shopper_id, on a shopper's first like"))),
        (status = 400, description = "This shopper liked this product before", body = ErrorBody),
        (status = 403, response = CrossSiteRefused),
        (status = 404, description = "No such product in the shop", body = ErrorBody),
        (status = 429, description = "Too many likes from this address or shopper", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
        (status = 503, response = Busy)))]
pub async fn like_product(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    Extension(trace): Extension<RequestTrace>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let shopper = shopper::identify(&headers);
    let known = (!shopper.is_new).then_some(shopper.id.as_str());
    if let Err(wait) = state.likes.check(address, known) {
        return ApiError::TooManyLikes(wait).into_response();
    }
    if let Err(refused) = like(&state, &trace, &id, &shopper.id).await {
        // A new shopper whose like did not count has nothing to come back to: no cookie.
        return refused;
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
) -> Result<(), Response> {
    let id = shop_runtime::http::positive_id(raw_id)
        .ok_or_else(|| ApiError::ProductNotFound.into_response())?;
    let like = Like {
        product: id,
        shopper: shopper.to_owned(),
        trace: trace.0.clone(),
    };
    match state.batcher.like(like).await {
        Ok(outcome) => outcome.map_err(IntoResponse::into_response),
        // As many likes wait as the batcher holds: busy, at once, before any queue.
        Err(QueueFull) => Err(admission::shed()),
    }
}

/// The ids of the products the calling shopper (the `shopper_id` cookie) has liked, so the
/// gallery shows them liked from its first paint; `[]` for a new shopper. The product list
/// itself stays the same for every shopper (and cacheable); this small answer is private.
#[utoipa::path(get, path = "/flask/api/likes", tag = "shop",
    responses(
        (status = 200, description = "Liked product ids, ascending", body = [u64]),
        (status = 503, response = Busy)))]
pub async fn my_likes(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let shopper = shopper::identify(&headers);
    let ids = if shopper.is_new {
        Ok(Vec::new())
    } else {
        db::liked_by(&state.core.pool, &shopper.id).await
    };
    match ids {
        Ok(ids) => {
            let mut response = Json(ids).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("private, no-cache"),
            );
            response
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
