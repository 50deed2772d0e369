//! Admin sign-in: accounts with Argon2id passwords ([`password`]), server-side sessions in
//! MariaDB (`tower-sessions` with its MySQL store, table `sessions`), API tokens for
//! machine clients ([`token`]), and slowing down password guessing ([`throttle`]).
//!
//! Every catalogue change needs an [`Admin`]: a signed-in session (cookie
//! `shop_admin_session`: `HttpOnly`, `SameSite=Strict`, `Secure` with `COOKIE_SECURE`) or an
//! `Authorization: Bearer` token. Reads stay public, as the contract says. A session ends
//! after `SESSION_IDLE_MINUTES` unused and `SESSION_MAX_HOURS` after sign-in; signing out
//! deletes it from the database, so it cannot be replayed. `ADMIN_AUTH=disabled` lets
//! anyone change the catalogue, as the original did, with a warning at start and in
//! `/api/health`; it is never the default.

pub mod handlers;
pub mod password;
pub mod throttle;
pub mod token;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::MySqlStore;

use crate::AppState;
use crate::db::{self, Account};
use crate::error::ApiError;
use crate::settings::AdminAuthSettings;

/// The session cookie's name.
pub const COOKIE: &str = "shop_admin_session";
/// How the cookie starts in a `Cookie` header.
const COOKIE_PAIR: &str = "shop_admin_session=";
const USER_ID: &str = "user_id";
const SIGNED_IN_AT: &str = "signed_in_at";

/// What signing in needs besides the database.
#[derive(Debug)]
pub struct Auth {
    pub settings: AdminAuthSettings,
    pub cookie_secure: bool,
    pub throttle: throttle::Throttle,
}

impl Auth {
    pub fn new(settings: AdminAuthSettings, cookie_secure: bool) -> Arc<Self> {
        Arc::new(Auth {
            settings,
            cookie_secure,
            throttle: throttle::Throttle::default(),
        })
    }

    /// The session layer over `store`.
    pub fn sessions(&self, store: MySqlStore) -> SessionManagerLayer<MySqlStore> {
        let idle = time::Duration::seconds(self.settings.session_idle.as_secs() as i64);
        SessionManagerLayer::new(store)
            .with_name(COOKIE)
            .with_http_only(true)
            .with_same_site(SameSite::Strict)
            .with_secure(self.cookie_secure)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(idle))
    }
}

/// The sessions store in the service's own database.
pub fn store(pool: &sqlx::MySqlPool) -> MySqlStore {
    let database = pool
        .connect_options()
        .get_database()
        .unwrap_or_default()
        .to_owned();
    // The store names its table `schema`.`table` and takes plain identifiers only. Falling
    // back to its default schema would put sessions in another database: stop instead.
    MySqlStore::new(pool.clone())
        .with_schema_name(&database)
        .and_then(|s| s.with_table_name("sessions"))
        .unwrap_or_else(|e| {
            panic!("SQL_DATABASE {database:?}: sessions need a database name of letters, digits and _ ({e})")
        })
}

/// Who is changing the catalogue: the proof a handler asks for.
#[derive(Debug, Clone)]
pub enum Admin {
    /// A signed-in admin.
    User(Account),
    /// A machine client, by its token's name.
    Token(String),
    /// Anyone: `ADMIN_AUTH=disabled`.
    Unchecked,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.auth.settings.disabled {
            return Ok(Admin::Unchecked);
        }
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| token::well_formed(t))
                .ok_or(ApiError::BadToken)?;
            return match db::token_name(&state.core.pool, &token::digest(token)).await? {
                Some(name) => Ok(Admin::Token(name)),
                None => Err(ApiError::BadToken),
            };
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::SignInRequired)?;
        signed_in(&session, state)
            .await?
            .map(Admin::User)
            .ok_or(ApiError::SignInRequired)
    }
}

/// The account signed in on `session`, if the session is still valid: within its absolute
/// lifetime, its user still there and not disabled. An ended session is emptied.
pub async fn signed_in(session: &Session, state: &AppState) -> Result<Option<Account>, ApiError> {
    let Some(user_id) = session.get::<u64>(USER_ID).await? else {
        return Ok(None);
    };
    let since = session.get::<u64>(SIGNED_IN_AT).await?.unwrap_or(0);
    if now_secs().saturating_sub(since) > state.auth.settings.session_max.as_secs() {
        session.flush().await?;
        return Ok(None);
    }
    match db::account_by_id(&state.core.pool, user_id).await? {
        Some(account) if !account.disabled => Ok(Some(account)),
        _ => {
            session.flush().await?;
            Ok(None)
        }
    }
}

/// `Cache-Control: no-store` on every answer to a request that carries the admin's session
/// cookie or a token, unless the handler chose otherwise: nothing an admin sees is kept by a
/// shared or browser cache.
pub async fn no_store_when_signed_in(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let signed = req.headers().contains_key(header::AUTHORIZATION)
        || req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.contains(COOKIE_PAIR));
    let mut response = next.run(req).await;
    if signed {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// Starts a session for `account`, under a new session id (no fixation).
pub async fn start_session(session: &Session, account: &Account) -> Result<(), ApiError> {
    session.cycle_id().await?;
    session.insert(USER_ID, account.id).await?;
    session.insert(SIGNED_IN_AT, now_secs()).await?;
    Ok(())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
