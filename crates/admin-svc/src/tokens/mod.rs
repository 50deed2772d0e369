//! API tokens in the browser (docs/contract.md, "Your own account"): `GET /api/tokens`,
//! `POST /api/tokens`, `DELETE /api/tokens/{id}`. Anyone signed in lists, makes and revokes
//! their own tokens; an `admin` sees and revokes every token, the commands' ownerless ones
//! too. Another's token is `404` to a viewer, as if it did not exist.

pub mod db;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, Busy, ProductId};
use shop_runtime::statement;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::JsonBody;
use crate::audit::{self, Action};
use crate::auth::client::Client;
use crate::auth::{Role, SignedIn, token};
use crate::error::{ApiError, FieldErrors};
use crate::fields::{self, rfc3339};
use crate::openapi::{Invalid, NotJson, SignInRequired};

/// The longest token name, and the longest life a token may be given.
pub const NAME_MAX: usize = 100;
pub const DAYS_MAX: u64 = 3650;

const NOT_FOUND: ApiError = ApiError::NotFound("Token not found");

/// Whose a token is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Owner {
    pub id: u64,
    pub name: String,
}

/// A live token (never the token itself).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenEntry {
    pub id: u64,
    pub name: String,
    /// `null` for a token made with `admin-api create-token`, which acts as an admin.
    pub owner: Option<Owner>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// To the minute; `null` if never used.
    pub last_used_at: Option<String>,
    /// `null`: never expires.
    pub expires_at: Option<String>,
    pub expired: bool,
}

impl From<db::TokenRow> for TokenEntry {
    fn from(r: db::TokenRow) -> Self {
        TokenEntry {
            id: r.id,
            name: r.name,
            owner: r.user_id.map(|id| Owner {
                id,
                name: r.user_name.unwrap_or_default(),
            }),
            created_at: rfc3339(r.created_us),
            last_used_at: r.last_used_us.map(rfc3339),
            expires_at: r.expires_us.map(rfc3339),
            expired: r.expired,
        }
    }
}

/// A new token: its entry and the token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub entry: TokenEntry,
    /// `shop_` and 64 hex digits; send it as `Authorization: Bearer …`.
    pub token: String,
}

/// What a new token takes.
#[derive(Debug, ToSchema)]
pub struct TokenInput {
    /// What it is for: 1 to 100 characters after trimming; unique among your live tokens.
    #[schema(schema_with = crate::openapi::token_name)]
    pub name: String,
    /// Days until it expires, 1 to 3,650; absent or `null`: never.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

fn days(map: &Map<String, Value>, errors: &mut FieldErrors) -> Option<u32> {
    let message = match map.get("expires_in_days") {
        None | Some(Value::Null) => return None,
        Some(Value::Number(n)) => {
            let whole = n
                .as_u64()
                .map(|d| d as f64)
                .or_else(|| n.as_i64().map(|d| d as f64))
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0));
            match whole {
                Some(d) if d < 1.0 => "Ensure this value is greater than or equal to 1.".to_owned(),
                Some(d) if d > DAYS_MAX as f64 => {
                    format!("Ensure this value is less than or equal to {DAYS_MAX}.")
                }
                Some(d) => return Some(d as u32),
                None => "A valid integer is required.".to_owned(),
            }
        }
        Some(_) => "A valid integer is required.".to_owned(),
    };
    errors.entry("expires_in_days").or_default().push(message);
    None
}

/// Your live tokens (an `admin`: every live token), by id; expired ones are listed, marked.
#[utoipa::path(get, path = "/api/tokens", tag = "tokens",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Live tokens, by id", body = [TokenEntry]),
        (status = 401, response = SignInRequired),
        (status = 503, response = Busy)))]
pub async fn list(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
) -> Result<Json<Vec<TokenEntry>>, ApiError> {
    let rows = match (actor.role, actor.user_id()) {
        (Role::Admin, _) => db::list(&state.core.pool, None).await?,
        (_, Some(id)) => db::list(&state.core.pool, Some(id)).await?,
        (_, None) => Vec::new(),
    };
    Ok(Json(rows.into_iter().map(TokenEntry::from).collect()))
}

/// Makes a token of yours (without owner, for a token without owner).
#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = TokenInput,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "The token, shown this once, and its entry", body = NewToken),
        (status = 400, response = Invalid),
        (status = 409, description = "You have a live token of this name: `{\"name\": [\"You already have a token with this name.\"]}`", body = crate::openapi::ValidationErrors),
        (status = 401, response = SignInRequired),
        (status = 403, response = shop_runtime::service::openapi::CrossSiteRefused),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn create(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
    client: Client,
    body: Result<JsonBody, ApiError>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let JsonBody(body) = body?;
    let map = fields::object(&body)?;
    let mut errors = FieldErrors::new();
    let name = fields::name(map, "name", NAME_MAX, &mut errors);
    let days = days(map, &mut errors);
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let secret = token::generate();
    let owner = actor.user_id();
    let mut tx = state.core.pool.begin().await?;
    let Some(id) = db::insert(&mut tx, owner, &name, &token::digest(&secret), days).await? else {
        return Err(ApiError::Conflict(FieldErrors::from([(
            "name",
            vec!["You already have a token with this name.".to_owned()],
        )])));
    };
    let mut record = client.record(Action::TokenCreate, Some(&actor));
    record.account_id = owner;
    record.detail = Some(json!({"token": name, "expires_in_days": days}));
    audit::record(&mut tx, &state.audit, &[record]).await?;
    let row = db::lock(&mut tx, id).await?.ok_or(NOT_FOUND)?;
    statement::commit(tx).await?;
    let entry = NewToken {
        entry: row.into(),
        token: secret,
    };
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Revokes a token at once: yours, or any for an `admin`; not the token the request came
/// with (a script would lock itself out).
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = inline(ProductId), Path, description = "Token id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = SignInRequired),
        (status = 403, response = shop_runtime::service::openapi::CrossSiteRefused),
        (status = 404, description = "No live token with this id that you may see", body = ErrorBody),
        (status = 409, description = "The token the request came with: a token cannot revoke itself", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn revoke(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = shop_runtime::http::positive_id(&id).ok_or(NOT_FOUND)?;
    let mut tx = state.core.pool.begin().await?;
    let row = db::lock(&mut tx, id).await?.ok_or(NOT_FOUND)?;
    let visible =
        actor.role == Role::Admin || (row.user_id.is_some() && row.user_id == actor.user_id());
    if !visible {
        return Err(NOT_FOUND);
    }
    if actor.token_id == Some(id) {
        return Err(ApiError::Refused(
            "A token cannot revoke itself: revoke it signed in, or with another token".to_owned(),
        ));
    }
    db::revoke(&mut tx, id).await?;
    let mut record = client.record(Action::TokenRevoke, Some(&actor));
    record.account_id = row.user_id;
    record.detail = Some(json!({"token": row.name}));
    audit::record(&mut tx, &state.audit, &[record]).await?;
    statement::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
