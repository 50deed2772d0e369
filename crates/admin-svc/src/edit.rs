//! Changing a product (`PUT`, and `PATCH`, which changes only the fields it sends): under
//! the row's lock, `If-Match` checked against the locked version, the change, its event and
//! its audit record in one transaction; the answer carries the new `ETag`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use events::{Event, Product};
use serde_json::Value;
use shop_runtime::http::{ClientIp, RequestTrace};
use shop_runtime::outbox;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, Busy, ProductId};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::AppState;
use crate::api::{JsonBody, commit_change, parse_id, product_state};
use crate::audit::{self, product::Who};
use crate::auth::Admin;
use crate::conflict::{self, ConflictBody, IfMatch};
use crate::db;
use crate::error::ApiError;
use crate::openapi::{Forbidden, Invalid, NotJson, SignInRequired};
use crate::validation;

/// Whether a body replaces both fields or changes the ones it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Replace,
    Patch,
}

/// Changes product `id` as `body` says (`mode`), if `If-Match` (in `headers`) allows:
/// `202` with the product and its new `ETag`; `404`, then `400`, then `412` with the current
/// one.
pub async fn apply(
    state: &AppState,
    who: Who,
    trace: &RequestTrace,
    headers: &HeaderMap,
    id: &str,
    body: &Value,
    mode: Mode,
) -> Result<Response, ApiError> {
    let id = parse_id(id)?;
    let if_match = IfMatch::from_headers(headers)?;
    let mut tx = state.core.pool.begin().await?;
    let current = db::lock_product(&mut tx, id)
        .await?
        .ok_or(ApiError::ProductNotFound)?;
    // A bad body is a 400 whatever the tag: the precondition is checked on a change that
    // could be made.
    let input = match mode {
        Mode::Replace => validation::product_input(body)?,
        Mode::Patch => validation::product_patch(body, &current.product)?,
    };
    if let Some(refused) = conflict::refusal(if_match.as_ref(), &current) {
        return Ok(refused);
    }
    let row = db::update_product(&mut tx, &current, &input).await?;
    let message = trace.message(&Event::ProductUpdated(product_state(&row)));
    outbox::enqueue(&mut tx, &message).await?;
    audit::record(&mut tx, &state.audit, &[who.updated(&current, &row)]).await?;
    commit_change(state, tx).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::ETAG, conflict::etag(row.version))],
        Json(row.product),
    )
        .into_response())
}

/// Changes a product's title, image or both (the fields left out keep their values) and
/// publishes `product_updated`. Answers 202, as `PUT` does, with the new `ETag`.
///
/// With `If-Match` (`*`, or the `ETag`s the client read: `"3"`, `"3", "4"`; weak tags never
/// match), nothing changes unless one is the product's version: `412` with the product as
/// it is. Neither `*` nor a list of quoted tags: `400`.
#[utoipa::path(patch, path = "/api/products/{id}", tag = "products", request_body = ProductPatch,
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
pub async fn patch_product(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Extension(trace): Extension<RequestTrace>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let who = Who::new(actor, ip, &trace);
    apply(&state, who, &trace, &headers, &id, &body, Mode::Patch).await
}

/// The product changed since the client read it (its `If-Match` names another version):
/// nothing changed; the body has the product as it is now, and `ETag` its version.
#[derive(utoipa::ToResponse)]
#[response(headers(("ETag" = String, description = "The product's current version, `\"N\"`")))]
pub struct Conflict(pub ConflictBody);

/// A `PATCH` body: `title`, `image` or both, under the rules of a product's fields
/// ([`crate::validation::ProductInput`]). Unknown fields are ignored.
pub struct ProductPatch;

impl PartialSchema for ProductPatch {
    fn schema() -> RefOr<Schema> {
        let with = |required: &[&str]| {
            let mut o = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("title", crate::openapi::title())
                .property("image", crate::openapi::image());
            for r in required {
                o = o.required(*r);
            }
            o.build()
        };
        Schema::AnyOf(
            AnyOfBuilder::new()
                .item(with(&["title"]))
                .item(with(&["image"]))
                .build(),
        )
        .into()
    }
}

impl ToSchema for ProductPatch {}
