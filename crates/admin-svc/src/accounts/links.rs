//! `POST /api/account-links/inspect` and `POST /api/account-links/redeem`: public (no
//! sign-in; the cross-site check applies as on every `POST`). A link's token is 64 random
//! hex digits of which only the SHA-256 is kept; it works once, for 72 hours, and not for a
//! disabled account (`410`, as for a revoked link).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, Busy, CrossSiteRefused};
use tower_sessions::Session;
use utoipa::ToSchema;

use super::db::{self, Link};
use crate::AppState;
use crate::api::JsonBody;
use crate::audit::{self, Action};
use crate::auth::client::Client;
use crate::auth::handlers::{Me, open_session};
use crate::auth::{Actor, password, token};
use crate::db as accounts_db;
use crate::error::{ApiError, FieldErrors};
use crate::fields::{self, rfc3339};
use crate::openapi::{Invalid, NotJson};

const UNKNOWN: ApiError = ApiError::NotFound("Unknown link");
const USED: &str = "This link was used already; ask an admin for a new one";
const EXPIRED: &str = "This link has expired; ask an admin for a new one";
const REVOKED: &str = "This link no longer works (a newer one was made, or the account is disabled); ask an admin for a new one";

/// `{"token"}`: the part of the link after `#`.
#[derive(Debug, ToSchema)]
pub struct LinkToken {
    #[schema(min_length = 1)]
    pub token: String,
}

/// `{"token", "password"}`: the link's token and the account's new password.
#[derive(Debug, ToSchema)]
pub struct Redeem {
    #[schema(min_length = 1)]
    pub token: String,
    /// 12 to 128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

/// Whose link it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkAccount {
    pub name: String,
    pub email: String,
    /// When the link stops working (RFC 3339, UTC).
    pub expires_at: String,
}

/// The link `secret` names, if it still works.
async fn working(state: &AppState, secret: &str) -> Result<Link, ApiError> {
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(UNKNOWN);
    }
    let link = db::link(
        &state.core.pool,
        &token::digest(&secret.to_ascii_lowercase()),
    )
    .await?
    .ok_or(UNKNOWN)?;
    if link.used {
        Err(ApiError::Gone(USED))
    } else if link.revoked || link.disabled {
        Err(ApiError::Gone(REVOKED))
    } else if link.expired {
        Err(ApiError::Gone(EXPIRED))
    } else {
        Ok(link)
    }
}

fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whose a one-time link is, and until when it works.
#[utoipa::path(post, path = "/api/account-links/inspect", tag = "accounts", request_body = LinkToken,
    responses(
        (status = 200, description = "The link works", body = LinkAccount),
        (status = 400, response = Invalid),
        (status = 403, response = CrossSiteRefused),
        (status = 404, description = "Unknown link", body = ErrorBody),
        (status = 410, description = "The link was used, has expired or was revoked; the message says which", body = ErrorBody),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn inspect(
    State(state): State<AppState>,
    body: Result<JsonBody, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    let map = fields::object(&body)?;
    let mut errors = FieldErrors::new();
    let secret = fields::secret(map, "token", &mut errors).ok_or(ApiError::Validation(errors))?;
    let link = working(&state, &secret).await?;
    Ok(no_store(Json(LinkAccount {
        name: link.name,
        email: link.email,
        expires_at: rfc3339(link.expires_us),
    })))
}

/// Sets the account's password with a one-time link, and signs in.
#[utoipa::path(post, path = "/api/account-links/redeem", tag = "accounts", request_body = Redeem,
    responses(
        (status = 200, description = "Password set; signed in", body = Me,
            headers(("Set-Cookie" = String, description = "The session cookie, `shop_admin_session`"))),
        (status = 400, response = Invalid),
        (status = 403, response = CrossSiteRefused),
        (status = 404, description = "Unknown link", body = ErrorBody),
        (status = 410, description = "The link was used, has expired or was revoked; the message says which", body = ErrorBody),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn redeem(
    State(state): State<AppState>,
    client: Client,
    session: Session,
    body: Result<JsonBody, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    let map = fields::object(&body)?;
    let mut errors = FieldErrors::new();
    let secret = fields::secret(map, "token", &mut errors);
    let new = fields::new_password(map, "password", &mut errors);
    let Some(secret) = secret else {
        return Err(ApiError::Validation(errors));
    };
    let link = working(&state, &secret).await?;
    let Some(new) = new else {
        return Err(ApiError::Validation(errors));
    };
    let account = accounts_db::account_by_id(&state.core.pool, link.user_id)
        .await?
        .ok_or(UNKNOWN)?;
    let hash = password::hash(new)
        .await
        .map_err(|e| ApiError::Database(sqlx::Error::Protocol(e.to_string())))?;
    let mut tx = state.core.pool.begin().await?;
    if !db::use_link(&mut tx, link.id).await? {
        // Redeemed (or revoked, or expired) since it was checked.
        return Err(working(&state, &secret)
            .await
            .err()
            .unwrap_or(ApiError::Gone(USED)));
    }
    db::set_password(&mut tx, account.id, &hash).await?;
    let actor = Actor::signed_in(&account, None);
    let mut record = client.record(Action::AccountLinkUse, Some(&actor));
    record.account_id = Some(account.id);
    audit::record(&mut tx, &state.audit, &[record]).await?;
    open_session(&state, &client, &session, &account, Some(tx)).await?;
    tracing::info!(
        user = account.id,
        "password set with a one-time link; signed in"
    );
    Ok(no_store(Json(Me::from(&account))))
}
