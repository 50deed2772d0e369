//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.

use std::time::Instant;

use crate::metrics::ADMIN_SIGN_INS;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, CrossSiteRefused};
use tower_sessions::Session;
use utoipa::ToSchema;

use super::client::Client;
use super::throttle::Key;
use super::{Actor, Role, SignedIn, password, sessions, signed_in_session, start_session};
use crate::AppState;
use crate::api::JsonBody;
use crate::audit::{self, Action};
use crate::db::{self, Account};
use crate::error::ApiError;
use crate::error::FieldErrors;
use crate::openapi::{Invalid, NotJson, SignInRequired};

/// The signed-in admin, as the UI shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl From<&Account> for Me {
    fn from(a: &Account) -> Self {
        Me {
            id: a.id,
            name: a.name.clone(),
            email: a.email.clone(),
            role: a.role,
        }
    }
}

/// What signing in takes. The handler reads the JSON itself, to answer a missing, blank or
/// mistyped field with Django REST Framework's messages; this type is its description.
#[derive(Debug, ToSchema)]
pub struct LoginInput {
    /// The admin's email address; compared without case and surrounding white space.
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub password: String,
}

/// An authenticated answer must not be kept by any cache.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn required_string(body: &Value, field: &'static str, errors: &mut FieldErrors) -> Option<String> {
    match body.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::String(_)) => {
            errors
                .entry(field)
                .or_default()
                .push("This field may not be blank.".to_owned());
            None
        }
        None | Some(Value::Null) => {
            errors
                .entry(field)
                .or_default()
                .push("This field is required.".to_owned());
            None
        }
        Some(_) => {
            errors
                .entry(field)
                .or_default()
                .push("Not a valid string.".to_owned());
            None
        }
    }
}

/// Signs an admin in: a new session cookie and the admin's name, or `401` for any wrong
/// email or password alike (same answer, same time), `429` with `Retry-After` after repeated
/// failures for this account or address; database errors as on every route (`503` with
/// `Retry-After` when no connection came in time, else `500`).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginInput,
    responses(
        (status = 200, description = "Signed in", body = Me,
            headers(("Set-Cookie" = String, description = "The session cookie, `shop_admin_session`"))),
        (status = 400, response = Invalid),
        (status = 401, description = "Invalid email or password", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"admin\"`"))),
        (status = 403, response = CrossSiteRefused),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 429, description = "Too many failed sign-ins for this account or address", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
        (status = 503, description = "No database connection came in time, or the service is busy", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again")))))]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    session: Session,
    body: Result<JsonBody, crate::error::ApiError>,
) -> Response {
    let JsonBody(body) = match body {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    match sign_in(&state, &client, &session, &body).await {
        Ok(account) => {
            ADMIN_SIGN_INS.increment(["success"]);
            tracing::info!(user = account.id, ip = ?client.ip, "admin signed in");
            no_store(Json(Me::from(&account)).into_response())
        }
        Err(e) => {
            let outcome = match &e {
                ApiError::BadCredentials => "bad_credentials",
                ApiError::Throttled(_) => "throttled",
                ApiError::Database(_) | ApiError::SessionStore(_) => "unavailable",
                _ => "invalid",
            };
            ADMIN_SIGN_INS.increment([outcome]);
            no_store(e.into_response())
        }
    }
}

async fn sign_in(
    state: &AppState,
    client: &Client,
    session: &Session,
    body: &Value,
) -> Result<Account, ApiError> {
    let ip = client.ip;
    let mut errors = FieldErrors::new();
    let email = required_string(body, "email", &mut errors);
    let password = required_string(body, "password", &mut errors);
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::Validation(errors));
    };
    let email = email.trim().to_lowercase();
    let account_key = Key::Account(email.clone());
    let mut keys = vec![account_key.clone()];
    if let Some(ip) = ip {
        keys.push(Key::Address(ip.to_string()));
    }
    let throttle = &state.auth.throttle;
    if let Some(wait) = throttle.wait(&keys, Instant::now()) {
        tracing::warn!(email, ip = ?ip, wait_s = wait.as_secs(), "sign-in refused: too many failures");
        return Err(ApiError::Throttled(wait));
    }
    let account = db::account_by_email(&state.core.pool, &email).await?;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = password::verify(stored, password).await;
    match account {
        Some(account) if matches && !account.disabled => {
            throttle.clear(&account_key);
            open_session(state, client, session, &account, None).await?;
            Ok(account)
        }
        _ => {
            throttle.fail(&keys, Instant::now());
            tracing::warn!(email, ip = ?ip, "failed admin sign-in");
            let mut record = client.record(Action::SignInFailed, None);
            // The email as typed (trimmed, lower-cased), cut to an address's longest.
            let tried: String = email.chars().take(254).collect();
            record.detail = Some(serde_json::json!({ "email": tried }));
            let mut conn = state.core.pool.acquire().await?;
            audit::record(&mut conn, &state.audit, &[record]).await?;
            Err(ApiError::BadCredentials)
        }
    }
}

/// Signs `account` in on `session`: its `admin_sessions` row, `last_sign_in_at` and the
/// `auth.sign_in` record in one transaction (on `tx` when given, with what else it holds),
/// then the session's data.
pub async fn open_session(
    state: &AppState,
    client: &Client,
    session: &Session,
    account: &Account,
    tx: Option<sqlx::Transaction<'static, sqlx::MySql>>,
) -> Result<(), ApiError> {
    let mut tx = match tx {
        Some(tx) => tx,
        None => state.core.pool.begin().await?,
    };
    // Signing in over another sign-in ends that one: its row goes too.
    if let Some(old) = session.get::<String>(super::SESSION_KEY).await? {
        sessions::forget(&mut tx, &old).await?;
    }
    let max = state.auth.settings.session_max.as_secs();
    let key = sessions::open(&mut tx, account.id, client, max).await?;
    let actor = Actor::signed_in(account, Some(key.clone()));
    let mut record = client.record(Action::SignIn, Some(&actor));
    record.account_id = Some(account.id);
    audit::record(&mut tx, &state.audit, &[record]).await?;
    shop_runtime::statement::commit(tx).await?;
    start_session(session, account, &key).await
}

/// Signs out: the session is deleted from the database, its cookie cleared. Always `204`.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out (or was not signed in)"),
        (status = 403, response = CrossSiteRefused),
        (status = 503, description = "The session store is unavailable, or the service is busy", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again")))))]
pub async fn logout(State(state): State<AppState>, client: Client, session: Session) -> Response {
    match sign_out(&state, &client, &session).await {
        Ok(()) => no_store(StatusCode::NO_CONTENT.into_response()),
        Err(e) => e.into_response(),
    }
}

async fn sign_out(state: &AppState, client: &Client, session: &Session) -> Result<(), ApiError> {
    if let Some((account, Some(key))) = signed_in_session(session, state).await? {
        let mut tx = state.core.pool.begin().await?;
        sessions::delete(&mut tx, account.id, &key).await?;
        let actor = Actor::signed_in(&account, Some(key));
        let mut record = client.record(Action::SignOut, Some(&actor));
        record.account_id = Some(account.id);
        audit::record(&mut tx, &state.audit, &[record]).await?;
        shop_runtime::statement::commit(tx).await?;
    }
    session.delete().await?;
    Ok(())
}

/// The signed-in account (a session's, or a token's owner), or `401`. A token without
/// owner is `{"id": 0, "name": "API token NAME", "email": "", "role": "admin"}`.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "The signed-in admin (anyone, with `ADMIN_AUTH=disabled`)", body = Me),
        (status = 401, response = SignInRequired),
        (status = 503, description = "No database connection came in time, or the service is busy", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again")))))]
pub async fn me(signed_in: Result<SignedIn, ApiError>) -> Response {
    let answer = match signed_in {
        Ok(SignedIn(actor)) => match (&actor.account, &actor.token) {
            (Some(account), _) => Json(Me::from(account)).into_response(),
            // A token without owner (admin-api create-token) acts as an admin of no account.
            (None, Some(token)) => Json(Me {
                id: 0,
                name: format!("API token {token}"),
                email: String::new(),
                role: actor.role,
            })
            .into_response(),
            (None, None) => Json(Me {
                id: 0,
                name: "Anyone (ADMIN_AUTH=disabled)".to_owned(),
                email: String::new(),
                role: Role::Admin,
            })
            .into_response(),
        },
        Err(e) => e.into_response(),
    };
    no_store(answer)
}
