//! The list of an account's sessions (`admin_sessions`): a row per sign-in, whose id the
//! session's data holds ([`super::SESSION_KEY`]). A session whose row is gone or past its
//! `expires_at` is signed out at its next request, which is how one session, the others, or
//! all of a disabled account's end at once. `GET /api/auth/sessions`,
//! `DELETE /api/auth/sessions/{id}`, `POST /api/auth/sessions/sign-out-others`.
//!
//! A token has no session: for a token these routes answer an empty list, `404` and
//! `{"signed_out": 0}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{Busy, CrossSiteRefused};
use shop_runtime::statement;
use sqlx::{FromRow, MySqlConnection, MySqlPool};
use tower_sessions::Session;
use utoipa::ToSchema;

use super::client::Client;
use super::{SignedIn, token};
use crate::audit::{self, Action};
use crate::db::Account;
use crate::error::ApiError;
use crate::fields::rfc3339;
use crate::openapi::SignInRequired;
use crate::{AppState, micros};

/// Notes a sign-in: a new `admin_sessions` row for `user_id`, ending `max_secs` from now,
/// and the account's `last_sign_in_at`. Returns the row's id.
pub async fn open(
    conn: &mut MySqlConnection,
    user_id: u64,
    client: &Client,
    max_secs: u64,
) -> Result<String, sqlx::Error> {
    let id = token::random_hex(16);
    statement::run(
        "open_admin_session",
        "INSERT admin_sessions",
        sqlx::query(
            r#"INSERT INTO admin_sessions (id, user_id, expires_at, user_agent, ip)
               VALUES (?, ?, NOW(6) + INTERVAL ? SECOND, ?, ?)"#,
        )
        .bind(&id)
        .bind(user_id)
        .bind(max_secs)
        .bind(&client.user_agent)
        .bind(client.ip.map(|ip| ip.to_string()))
        .execute(&mut *conn),
    )
    .await?;
    statement::run(
        "note_sign_in",
        "UPDATE users",
        sqlx::query(r#"UPDATE users SET last_sign_in_at = NOW(6) WHERE id = ?"#)
            .bind(user_id)
            .execute(&mut *conn),
    )
    .await?;
    Ok(id)
}

/// A session's row with its account.
#[derive(Debug, FromRow)]
pub struct Row {
    #[sqlx(flatten)]
    pub account: Account,
    /// Not past `expires_at`.
    pub live: bool,
    /// Seconds since `last_seen_at`.
    pub unseen_s: Option<i64>,
}

/// The row `id` and its account.
pub async fn find(pool: &MySqlPool, id: &str) -> Result<Option<Row>, sqlx::Error> {
    statement::run(
        "find_admin_session",
        "SELECT admin_sessions",
        sqlx::query_as(
            r#"SELECT u.id, u.name, u.email, u.password_hash,
                      u.disabled_at IS NOT NULL AS disabled, u.role,
                      s.expires_at > NOW(6) AS live,
                      TIMESTAMPDIFF(SECOND, s.last_seen_at, NOW(6)) AS unseen_s
               FROM admin_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?"#,
        )
        .bind(id)
        .fetch_optional(pool),
    )
    .await
}

/// Notes that session `id` was seen now.
pub async fn touch(pool: &MySqlPool, id: &str) -> Result<(), sqlx::Error> {
    statement::run(
        "touch_admin_session",
        "UPDATE admin_sessions",
        sqlx::query(r#"UPDATE admin_sessions SET last_seen_at = NOW(6) WHERE id = ?"#)
            .bind(id)
            .execute(pool),
    )
    .await?;
    Ok(())
}

/// Ends session `id` of `user_id`; `false` when it has no such session.
pub async fn delete(
    conn: &mut MySqlConnection,
    user_id: u64,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = statement::run(
        "delete_admin_session",
        "DELETE admin_sessions",
        sqlx::query(r#"DELETE FROM admin_sessions WHERE id = ? AND user_id = ?"#)
            .bind(id)
            .bind(user_id)
            .execute(conn),
    )
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the row `id`, whoever's it is (a session signing in again).
pub async fn forget(conn: &mut MySqlConnection, id: &str) -> Result<(), sqlx::Error> {
    statement::run(
        "forget_admin_session",
        "DELETE admin_sessions",
        sqlx::query(r#"DELETE FROM admin_sessions WHERE id = ?"#)
            .bind(id)
            .execute(conn),
    )
    .await?;
    Ok(())
}

/// Ends every session of `user_id` but `keep`; returns how many ended.
pub async fn delete_all_but(
    conn: &mut MySqlConnection,
    user_id: u64,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = statement::run(
        "delete_admin_sessions",
        "DELETE admin_sessions",
        sqlx::query(r#"DELETE FROM admin_sessions WHERE user_id = ? AND id <> COALESCE(?, '')"#)
            .bind(user_id)
            .bind(keep)
            .execute(conn),
    )
    .await?;
    Ok(done.rows_affected())
}

/// Deletes the rows of sessions past their end (hourly, with the store's).
pub async fn delete_expired(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    let done = statement::run(
        "delete_expired_admin_sessions",
        "DELETE admin_sessions",
        sqlx::query(r#"DELETE FROM admin_sessions WHERE expires_at <= NOW(6)"#).execute(pool),
    )
    .await?;
    Ok(done.rows_affected())
}

#[derive(Debug, FromRow)]
struct ListedRow {
    id: String,
    created_us: i64,
    last_seen_us: i64,
    user_agent: String,
    ip: Option<String>,
}

/// A session, as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionEntry {
    /// 32 hex digits.
    pub id: String,
    /// When it signed in (RFC 3339, UTC).
    pub created_at: String,
    /// When it was last used, to the minute.
    pub last_seen_at: String,
    /// The browser's `User-Agent` (at most 300 characters; empty without one).
    pub user_agent: String,
    /// The client's address, when known.
    pub ip: Option<String>,
    /// Whether it is the session of this request.
    pub current: bool,
}

/// `{"signed_out": N}`
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedOut {
    pub signed_out: u64,
}

/// Your sessions that have not ended, newest first (`[]` for a token, which has none).
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Your sessions, newest first", body = [SessionEntry]),
        (status = 401, response = SignInRequired),
        (status = 503, response = Busy)))]
pub async fn list(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
) -> Result<Json<Vec<SessionEntry>>, ApiError> {
    let (Some(user), Some(current)) = (actor.user_id(), actor.session.as_deref()) else {
        return Ok(Json(Vec::new()));
    };
    let rows: Vec<ListedRow> = statement::run(
        "list_admin_sessions",
        "SELECT admin_sessions",
        sqlx::query_as(concat!(
            "SELECT id, ",
            micros!("created_at"),
            " AS created_us, ",
            micros!("last_seen_at"),
            " AS last_seen_us, user_agent, ip FROM admin_sessions
             WHERE user_id = ? AND expires_at > NOW(6) ORDER BY created_at DESC, id"
        ))
        .bind(user)
        .fetch_all(&state.core.pool),
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SessionEntry {
                current: r.id == current,
                id: r.id,
                created_at: rfc3339(r.created_us),
                last_seen_at: rfc3339(r.last_seen_us),
                user_agent: r.user_agent,
                ip: r.ip,
            })
            .collect(),
    ))
}

/// Ends one of your sessions (the current one too: that signs you out).
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "A session's id, from the list")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 204, description = "The session ended"),
        (status = 401, response = SignInRequired),
        (status = 403, response = CrossSiteRefused),
        (status = 404, description = "You have no session with this id", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn revoke(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
    client: Client,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    const NOT_FOUND: ApiError = ApiError::NotFound("Session not found");
    let (Some(user), Some(current)) = (actor.user_id(), actor.session.clone()) else {
        return Err(NOT_FOUND);
    };
    let mut tx = state.core.pool.begin().await?;
    if !delete(&mut tx, user, &id).await? {
        return Err(NOT_FOUND);
    }
    let mut record = client.record(Action::SessionRevoke, Some(&actor));
    record.account_id = Some(user);
    record.detail = Some(json!({"session": id}));
    audit::record(&mut tx, &state.audit, &[record]).await?;
    statement::commit(tx).await?;
    if id == current {
        session.delete().await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every one of your sessions but this one.
#[utoipa::path(post, path = "/api/auth/sessions/sign-out-others", tag = "auth",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "How many sessions ended (`0` for a token)", body = SignedOut),
        (status = 401, response = SignInRequired),
        (status = 403, response = CrossSiteRefused),
        (status = 503, response = Busy)))]
pub async fn sign_out_others(
    SignedIn(actor): SignedIn,
    State(state): State<AppState>,
    client: Client,
) -> Result<Json<SignedOut>, ApiError> {
    let (Some(user), Some(current)) = (actor.user_id(), actor.session.as_deref()) else {
        return Ok(Json(SignedOut { signed_out: 0 }));
    };
    let mut tx = state.core.pool.begin().await?;
    let n = delete_all_but(&mut tx, user, Some(current)).await?;
    if n > 0 {
        let mut record = client.record(Action::SessionRevoke, Some(&actor));
        record.account_id = Some(user);
        record.detail = Some(json!({"others": n}));
        audit::record(&mut tx, &state.audit, &[record]).await?;
    }
    statement::commit(tx).await?;
    Ok(Json(SignedOut { signed_out: n }))
}
