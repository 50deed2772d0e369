//! `GET /api/products/{id}/history` and `GET /api/audit` (docs/contract.md, "Change history
//! and the audit log"): for any signed-in account, newest first, a keyset page at a time
//! (`?limit=&before=`, a `Link` to the next page that keeps the filters).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use shop_runtime::lists::page::Params;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{Busy, ProductId};
use url::form_urlencoded;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::Action;
use super::read::{self, Entry, Filter};
use crate::AppState;
use crate::api::parse_id;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::openapi::SignInRequired;

/// The largest page.
pub const MAX_LIMIT: u64 = 100;
/// The page size without `limit`.
pub const DEFAULT_LIMIT: u64 = 50;

/// `?limit=&before=`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Entries a page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Only entries older than this one (an entry's `id`): the next page.
    #[param(value_type = Option<ProductId>, inline)]
    pub before: Option<u64>,
}

/// `?action=&actor=&product=`, with [`HistoryQuery`]'s paging.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries of this action.
    #[param(value_type = Option<AuditAction>, inline)]
    pub action: Option<String>,
    /// Only entries of this account (its id).
    #[param(value_type = Option<ProductId>, inline)]
    pub actor: Option<u64>,
    /// Only entries about this product (its id).
    #[param(value_type = Option<ProductId>, inline)]
    pub product: Option<u64>,
}

/// The actions an entry may have.
pub struct AuditAction;

impl PartialSchema for AuditAction {
    fn schema() -> RefOr<Schema> {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(Action::ALL.map(Action::as_str)))
                .build(),
        )
        .into()
    }
}

impl ToSchema for AuditAction {}

/// Plain decimal digits that fit in 64 bits.
fn digits(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// A positive id parameter `name`, if given.
fn id_param(params: &Params, name: &str, what: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            digits(raw).filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::BadParameter(format!("{name} must be {what}: a whole number from 1"))
            })
        })
        .transpose()
}

/// `limit` and `before`.
fn paging(params: &Params) -> Result<(u64, Option<u64>), ApiError> {
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => digits(raw)
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadParameter(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    Ok((limit, id_param(params, "before", "an entry id")?))
}

/// The page's answer, with a `Link` to the next one when older entries follow: `filters`
/// (name, value) kept, `before` the page's last id.
fn answer(
    path: &str,
    filters: &[(&str, String)],
    entries: Vec<Entry>,
    more: bool,
    limit: u64,
) -> Response {
    let last = entries.last().map(|e| e.id);
    let mut response = Json(entries).into_response();
    if let (true, Some(last)) = (more, last) {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in filters {
            query.append_pair(name, value);
        }
        query.append_pair("before", &last.to_string());
        query.append_pair("limit", &limit.to_string());
        let link = format!("<{path}?{}>; rel=\"next\"", query.finish());
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

/// A product's change history, newest first: its entries, a deleted product's too.
#[utoipa::path(get, path = "/api/products/{id}/history", tag = "audit",
    params(("id" = inline(ProductId), Path, description = "Product id"), HistoryQuery),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "The product's entries, newest first; `Link: <…>; rel=\"next\"` when older ones follow", body = [Entry]),
        (status = 400, description = "`limit` or `before` is out of range or not a whole number; the message names it", body = ErrorBody),
        (status = 401, response = SignInRequired),
        (status = 404, description = "No such product, now or ever", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn product_history(
    _who: SignedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let params = Params::parse(uri.query());
    let (limit, before) = paging(&params)?;
    let filter = Filter {
        product: Some(id),
        before,
        ..Filter::default()
    };
    let pool = &state.core.pool;
    let (entries, more) = read::entries(pool, &state.audit, &filter, limit).await?;
    if entries.is_empty() && !read::product_known(pool, &state.audit, id).await? {
        return Err(ApiError::ProductNotFound);
    }
    let path = format!("/api/products/{id}/history");
    Ok(answer(&path, &[], entries, more, limit))
}

/// The audit log, newest first, filtered by action, actor and product.
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    params(AuditQuery, HistoryQuery),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "The entries, newest first; `Link: <…>; rel=\"next\"` (with the same filters) when older ones follow", body = [Entry]),
        (status = 400, description = "A parameter is out of range, not a whole number, or an unknown action; the message names it", body = ErrorBody),
        (status = 401, response = SignInRequired),
        (status = 503, response = Busy)))]
pub async fn audit_log(
    _who: SignedIn,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = Params::parse(uri.query());
    let (limit, before) = paging(&params)?;
    let action = params
        .get("action")
        .map(|raw| {
            Action::parse(raw).ok_or_else(|| {
                let all: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
                ApiError::BadParameter(format!("action must be one of {}", all.join(", ")))
            })
        })
        .transpose()?;
    let filter = Filter {
        action,
        actor: id_param(&params, "actor", "an account id")?,
        product: id_param(&params, "product", "a product id")?,
        before,
    };
    let mut kept = Vec::new();
    if let Some(a) = filter.action {
        kept.push(("action", a.as_str().to_owned()));
    }
    if let Some(a) = filter.actor {
        kept.push(("actor", a.to_string()));
    }
    if let Some(p) = filter.product {
        kept.push(("product", p.to_string()));
    }
    let (entries, more) = read::entries(&state.core.pool, &state.audit, &filter, limit).await?;
    Ok(answer("/api/audit", &kept, entries, more, limit))
}
