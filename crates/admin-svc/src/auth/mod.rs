//! Admin sign-in: accounts with Argon2id passwords ([`password`]), server-side sessions in
//! MariaDB (`tower-sessions` with its MySQL store, table `sessions`), API tokens for
//! machine clients ([`token`]), and slowing down password guessing ([`throttle`]).
//!
//! Every catalogue change needs an [`Admin`]: a signed-in session (cookie
//! `shop_admin_session`: `HttpOnly`, `SameSite=Strict`, `Secure` with `COOKIE_SECURE`) or an
//! `Authorization: Bearer` token. Reads stay public, as the contract says. A session ends
//! after `SESSION_IDLE_MINUTES` unused and `SESSION_MAX_HOURS` after sign-in; signing out
//! deletes it from the database, so it cannot be replayed. Each sign-in has a row in
//! `admin_sessions` ([`sessions`]), which every request checks: deleting it ends the session. `ADMIN_AUTH=disabled` lets
//! anyone change the catalogue, as the original did, with a warning at start and in
//! `/api/health`; it is never the default.

pub mod client;
pub mod handlers;
pub mod own;
pub mod password;
pub mod sessions;
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
use utoipa::ToSchema;

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
/// The session's row in `admin_sessions`.
pub const SESSION_KEY: &str = "session_key";

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

/// What an account may do (docs/contract.md, "Roles and who may do what").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Reads the catalogue, its history and the audit log; manages only its own password,
    /// sessions and tokens.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

// As text (the column is an ENUM, which MariaDB sends as a string: sqlx's derived enum
// types expect MySQL's ENUM column type and refuse it).
impl sqlx::Type<sqlx::MySql> for Role {
    fn type_info() -> sqlx::mysql::MySqlTypeInfo {
        <str as sqlx::Type<sqlx::MySql>>::type_info()
    }

    fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
        <str as sqlx::Type<sqlx::MySql>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::MySql> for Role {
    fn decode(value: sqlx::mysql::MySqlValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let raw = <&str as sqlx::Decode<sqlx::MySql>>::decode(value)?;
        Role::parse(raw).ok_or_else(|| format!("unknown role {raw:?}").into())
    }
}

impl sqlx::Encode<'_, sqlx::MySql> for Role {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<u8>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<sqlx::MySql>>::encode(self.as_str(), buf)
    }
}

/// Who sent a request: what the audit log records of them, and their role.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The account: the one signed in, or the token's owner.
    pub account: Option<Account>,
    /// The API token's name, for a token.
    pub token: Option<String>,
    /// The token's id, for a token.
    pub token_id: Option<u64>,
    /// The admin session's id (`admin_sessions.id`), for a signed-in session.
    pub session: Option<String>,
    pub role: Role,
}

impl Actor {
    /// Anyone, with `ADMIN_AUTH=disabled`: an admin without a name.
    pub fn unchecked() -> Self {
        Actor {
            account: None,
            token: None,
            token_id: None,
            session: None,
            role: Role::Admin,
        }
    }

    /// The signed-in `account`, on the session whose row is `session`.
    pub fn signed_in(account: &Account, session: Option<String>) -> Self {
        Actor {
            role: account.role,
            account: Some(account.clone()),
            token: None,
            token_id: None,
            session,
        }
    }

    /// The account's id, if there is one.
    pub fn user_id(&self) -> Option<u64> {
        self.account.as_ref().map(|a| a.id)
    }
}

/// Any signed-in account or live token, whatever its role; `401` otherwise.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Actor);

/// A signed-in account or token with the `admin` role: the proof a catalogue change asks
/// for. `401` without one, `403` for a viewer.
#[derive(Debug, Clone)]
pub struct Admin(pub Actor);

/// As [`Admin`], for the routes that manage accounts and other people's tokens (their
/// `403` says so).
#[derive(Debug, Clone)]
pub struct AccountsAdmin(pub Actor);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.auth.settings.disabled {
            return Ok(SignedIn(Actor::unchecked()));
        }
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| token::well_formed(t))
                .ok_or(ApiError::BadToken)?;
            let pool = &state.core.pool;
            let live = db::live_token(pool, &token::digest(token))
                .await?
                .ok_or(ApiError::BadToken)?;
            if live.unused_for_s.is_none_or(|s| s >= 60) {
                db::touch_token(pool, live.id).await?;
            }
            return Ok(SignedIn(Actor {
                role: live.role.unwrap_or(Role::Admin),
                account: live.owner(),
                token: Some(live.name),
                token_id: Some(live.id),
                session: None,
            }));
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::SignInRequired)?;
        let (account, key) = signed_in_session(&session, state)
            .await?
            .ok_or(ApiError::SignInRequired)?;
        Ok(SignedIn(Actor {
            role: account.role,
            account: Some(account),
            token: None,
            token_id: None,
            session: key,
        }))
    }
}

/// `actor`, if its role is `admin`; else `403`, saying what it cannot do.
fn admin_role(actor: Actor, cannot: &str) -> Result<Actor, ApiError> {
    match actor.role {
        Role::Admin => Ok(actor),
        role => Err(ApiError::Forbidden(format!(
            "Your role ({}) cannot {cannot}",
            role.as_str()
        ))),
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedIn(actor) = SignedIn::from_request_parts(parts, state).await?;
        admin_role(actor, "change the catalogue").map(Admin)
    }
}

impl FromRequestParts<AppState> for AccountsAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedIn(actor) = SignedIn::from_request_parts(parts, state).await?;
        admin_role(actor, "manage accounts").map(AccountsAdmin)
    }
}

/// The account signed in on `session`, if the session is still valid (within its absolute
/// lifetime, its user still there and not disabled), with the session's `admin_sessions`
/// id; an ended session is emptied. A session must have its row in
/// `admin_sessions`, not past its end: a session started before sessions were listed (it
/// has no [`SESSION_KEY`]), one revoked from the list, and one of an account disabled since
/// are signed out (emptied). Its `last_seen_at` moves at most once a minute.
pub async fn signed_in_session(
    session: &Session,
    state: &AppState,
) -> Result<Option<(Account, Option<String>)>, ApiError> {
    let Some(user_id) = session.get::<u64>(USER_ID).await? else {
        return Ok(None);
    };
    let key = session.get::<String>(SESSION_KEY).await?;
    let since = session.get::<u64>(SIGNED_IN_AT).await?.unwrap_or(0);
    let within = now_secs().saturating_sub(since) <= state.auth.settings.session_max.as_secs();
    let row = match &key {
        Some(key) if within => sessions::find(&state.core.pool, key).await?,
        _ => None,
    };
    match (row, key) {
        (Some(row), Some(key))
            if row.live && row.account.id == user_id && !row.account.disabled =>
        {
            if row.unseen_s.is_none_or(|s| s >= 60) {
                sessions::touch(&state.core.pool, &key).await?;
            }
            Ok(Some((row.account, Some(key))))
        }
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

/// Starts a session for `account`, under a new session id (no fixation), whose row in
/// `admin_sessions` is `key` ([`sessions::open`], in the transaction that notes the sign-in).
pub async fn start_session(
    session: &Session,
    account: &Account,
    key: &str,
) -> Result<(), ApiError> {
    session.cycle_id().await?;
    session.insert(USER_ID, account.id).await?;
    session.insert(SESSION_KEY, key).await?;
    session.insert(SIGNED_IN_AT, now_secs()).await?;
    Ok(())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
