//! `PUT /api/auth/password`: a signed-in account changes its own password. The current
//! password is checked as a sign-in is (a wrong one counts towards the same throttle, so
//! this route cannot be used to guess it), and the account's other sessions end.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, Busy};
use shop_runtime::statement;
use utoipa::ToSchema;

use super::client::Client;
use super::throttle::Key;
use super::{SignedIn, password, sessions};
use crate::AppState;
use crate::api::JsonBody;
use crate::audit::{self, Action};
use crate::error::{ApiError, FieldErrors};
use crate::fields;
use crate::openapi::{Invalid, NotJson, SignInRequired};

/// What changing your password takes.
#[derive(Debug, ToSchema)]
pub struct PasswordChange {
    /// Your password now.
    #[schema(min_length = 1)]
    pub current_password: String,
    /// The new one: 12 to 128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Changes your password; your other sessions end (this one goes on). Only in a signed-in
/// session: an API token gets `403`.
#[utoipa::path(put, path = "/api/auth/password", tag = "auth", request_body = PasswordChange,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "Changed; your other sessions ended"),
        (status = 400, response = Invalid),
        (status = 401, response = SignInRequired),
        (status = 403, description = "Sent with an API token (sign in to change your password), or from another site", body = ErrorBody),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 429, description = "Too many wrong passwords for this account or address", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
        (status = 503, response = Busy)))]
pub async fn change_password(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
    client: Client,
    body: Result<JsonBody, ApiError>,
) -> Result<StatusCode, ApiError> {
    let (Some(account), Some(key)) = (actor.account.clone(), actor.session.clone()) else {
        return Err(ApiError::Forbidden(
            "Change your password signed in, in the browser: an API token cannot".to_owned(),
        ));
    };
    let JsonBody(body) = body?;
    let map = fields::object(&body)?;
    let mut errors = FieldErrors::new();
    let current = fields::secret(map, "current_password", &mut errors);
    let new = fields::new_password(map, "new_password", &mut errors);
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::Validation(errors));
    };
    let mut keys = vec![Key::Account(account.email.clone())];
    if let Some(ip) = client.ip {
        keys.push(Key::Address(ip.to_string()));
    }
    let throttle = &state.auth.throttle;
    if let Some(wait) = throttle.wait(&keys, Instant::now()) {
        return Err(ApiError::Throttled(wait));
    }
    if !password::verify(account.password_hash.clone(), current).await {
        throttle.fail(&keys, Instant::now());
        tracing::warn!(user = account.id, ip = ?client.ip, "wrong current password");
        return Err(ApiError::Validation(FieldErrors::from([(
            "current_password",
            vec!["Wrong password.".to_owned()],
        )])));
    }
    let hash = password::hash(new)
        .await
        .map_err(|e| ApiError::Database(sqlx::Error::Protocol(e.to_string())))?;
    let mut tx = state.core.pool.begin().await?;
    crate::accounts::db::set_password(&mut tx, account.id, &hash).await?;
    let ended = sessions::delete_all_but(&mut tx, account.id, Some(&key)).await?;
    let mut record = client.record(Action::PasswordChange, Some(&actor));
    record.account_id = Some(account.id);
    record.detail = Some(json!({"signed_out": ended}));
    audit::record(&mut tx, &state.audit, &[record]).await?;
    statement::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
