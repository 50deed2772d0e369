//! The admin HTTP API (docs/contract.md, "admin-svc: the catalogue").

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use events::{Event, Product, ProductState};
use serde::Serialize;
use serde_json::Value;
use shop_runtime::http::{ClientIp, RequestTrace};
use shop_runtime::lists::page::{Numbered, Params};
use shop_runtime::lists::{self, Change};
use shop_runtime::problem::ErrorBody;

use crate::audit::{self, Action, product::Who};
use crate::auth::Admin;
use crate::conflict::{self, IfMatch};
use crate::edit::{Conflict, Mode};
use crate::openapi::{CatalogueQuery, Forbidden, Invalid, NotJson, SignInRequired};
use shop_runtime::outbox;
use shop_runtime::service::openapi::{BodyTooLarge, Busy, PageQuery, ProductId};
use utoipa::ToSchema;

use crate::AppState;
use crate::catalogue;
use crate::db::{self, ProductRow};
use crate::error::ApiError;
use crate::validation::{self, ProductInput};

pub(crate) fn product_state(r: &ProductRow) -> ProductState {
    let p = &r.product;
    ProductState {
        id: p.id,
        title: p.title.clone(),
        image: p.image.clone(),
        likes: p.likes,
        version: Some(r.version),
    }
}

/// `{"id": N}`
#[derive(Debug, Serialize, ToSchema)]
pub struct UserId {
    pub id: u64,
}

/// A JSON body; its rejections become the contract's 400, 413 and 415.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<Value>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::PayloadTooLarge),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::MalformedJson(
                std::error::Error::source(&e).map_or_else(|| e.body_text(), ToString::to_string),
            )),
            Err(r) => Err(ApiError::MalformedJson(r.body_text())),
        }
    }
}

pub(crate) fn parse_id(raw: &str) -> Result<u64, ApiError> {
    shop_runtime::http::positive_id(raw).ok_or(ApiError::ProductNotFound)
}

/// Lists the catalogue. Bare, or with `limit`/`after`: ordered by id, served from memory
/// (gzip or brotli when accepted, `ETag`), like counts at most `LIST_COUNTS_MAX_AGE_MS` late.
/// With any of `q`, `sort`, `page` and `per_page`: a numbered page of the sorted, searched
/// catalogue, read from the database, with `X-Total-Count` and `Link`s.
#[utoipa::path(get, path = "/api/products", tag = "products",
    params(PageQuery, CatalogueQuery),
    responses(
        (status = 200, description = "All products, or one page. A keyset page that is not the last has a `Link: <…>; rel=\"next\"` header; a numbered page has `Link`s to the first, previous, next and last pages", body = [Product],
            headers(("X-Total-Count" = u64, description = "With `q`, `sort`, `page` or `per_page`: how many products match"))),
        (status = 304, description = "Not modified since the `ETag` sent in `If-None-Match`"),
        (status = 400, description = "A parameter is out of range or not a whole number, or `sort` is unknown; the message names it", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn list_products(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(uri.query());
    let numbered = match Numbered::parse(&params) {
        Ok(Some(n)) => n,
        Ok(None) => {
            return state
                .list
                .respond("/api/products", uri.query(), &headers)
                .await;
        }
        Err(message) => return ApiError::BadParameter(message).into_response(),
    };
    let Some(_permit) = state.core.admission.enter() else {
        return shop_runtime::http::admission::shed();
    };
    let feed = state.list.feed();
    match catalogue::page(&state.core.pool, feed, &state.held, &numbered).await {
        Ok((products, total)) => catalogue::answer("/api/products", &numbered, &products, total),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Commits a change to the catalogue with its event (already enqueued on `tx`): the
/// catalogue's version moves in the same transaction; after the commit the relay wakes and
/// this process's list, and the other replicas', are stale.
pub(crate) async fn commit_change(
    state: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::MySql>,
) -> Result<(), ApiError> {
    lists::versions::bump_version(&mut tx, Change::Catalogue).await?;
    shop_runtime::statement::commit(tx).await?;
    state.core.outbox.committed();
    state.list.feed().announce(Change::Catalogue);
    Ok(())
}

/// Creates a product and publishes `product_created`.
#[utoipa::path(post, path = "/api/products", tag = "products", request_body = ProductInput,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created", body = Product,
            headers(("Location" = String, description = "The new product's path, `/api/products/{id}`"))),
        (status = 400, response = Invalid),
        (status = 401, response = SignInRequired),
        (status = 403, response = Forbidden),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn create_product(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Extension(trace): Extension<RequestTrace>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input = validation::product_input(&body)?;
    let who = Who::new(actor, ip, &trace);
    let mut tx = state.core.pool.begin().await?;
    let row = db::insert_product(&mut tx, &input).await?;
    let message = trace.message(&Event::ProductCreated(product_state(&row)));
    outbox::enqueue(&mut tx, &message).await?;
    audit::record(&mut tx, &state.audit, &[who.created(&row)]).await?;
    commit_change(&state, tx).await?;
    let location = format!("/api/products/{}", row.product.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(row.product),
    )
        .into_response())
}

/// One product.
#[utoipa::path(get, path = "/api/products/{id}", tag = "products",
    params(("id" = inline(ProductId), Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = Product,
            headers(("ETag" = String, description = "The product's version, `\"N\"`: send it as `If-Match` with a change"))),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let row = db::get_product(&state.core.pool, id)
        .await?
        .ok_or(ApiError::ProductNotFound)?;
    Ok((
        [(header::ETAG, conflict::etag(row.version))],
        Json(row.product),
    )
        .into_response())
}

/// Replaces a product's title and image (both required) and publishes `product_updated`.
/// Answers 202, as the original did, with the new `ETag`.
///
/// With `If-Match` (`*`, or the `ETag`s the client read: `"3"`, `"3", "4"`; weak tags never
/// match), nothing changes unless one is the product's version: `412` with the product as
/// it is. Neither `*` nor a list of quoted tags: `400`.
#[utoipa::path(put, path = "/api/products/{id}", tag = "products", request_body = ProductInput,
    params(("id" = inline(ProductId), Path, description = "Product id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 202, description = "Updated", body = Product,
            headers(("ETag" = String, description = "The product's new version, `\"N\"`"))),
        (status = 400, response = Invalid),
        (status = 401, response = SignInRequired),
        (status = 403, response = Forbidden),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 412, response = Conflict),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn update_product(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Extension(trace): Extension<RequestTrace>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let who = Who::new(actor, ip, &trace);
    crate::edit::apply(&state, who, &trace, &headers, &id, &body, Mode::Replace).await
}

/// Deletes a product and publishes `product_deleted`.
///
/// With `If-Match` (`*`, or the `ETag`s the client read: `"3"`, `"3", "4"`; weak tags never
/// match), nothing is deleted unless one is the product's version: `412` with the product
/// as it is. Neither `*` nor a list of quoted tags: `400`.
#[utoipa::path(delete, path = "/api/products/{id}", tag = "products",
    params(("id" = inline(ProductId), Path, description = "Product id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`If-Match` is neither `*` nor a list of quoted tags", body = ErrorBody),
        (status = 401, response = SignInRequired),
        (status = 403, response = Forbidden),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 412, response = Conflict),
        (status = 503, response = Busy)))]
pub async fn delete_product(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Extension(trace): Extension<RequestTrace>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let if_match = IfMatch::from_headers(&headers)?;
    let who = Who::new(actor, ip, &trace);
    let mut tx = state.core.pool.begin().await?;
    let current = db::lock_product(&mut tx, id)
        .await?
        .ok_or(ApiError::ProductNotFound)?;
    if let Some(refused) = conflict::refusal(if_match.as_ref(), &current) {
        return Ok(refused);
    }
    db::delete_product(&mut tx, id).await?;
    outbox::enqueue(&mut tx, &trace.message(&Event::ProductDeleted(id))).await?;
    let record = who.deleted(Action::ProductDelete, &current);
    audit::record(&mut tx, &state.audit, &[record]).await?;
    commit_change(&state, tx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A random admin user's id.
#[utoipa::path(get, path = "/api/user", tag = "users",
    responses(
        (status = 200, description = "A user's id", body = UserId),
        (status = 404, description = "No users", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn random_user(State(state): State<AppState>) -> Result<Json<UserId>, ApiError> {
    let id = db::random_user_id(&state.core.pool)
        .await?
        .ok_or(ApiError::NoUsers)?;
    Ok(Json(UserId { id }))
}
