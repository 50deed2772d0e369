//! `GET /api/admins`, `POST /api/admins`, `PATCH /api/admins/{id}`,
//! `POST /api/admins/{id}/link`: for the `admin` role ([`AccountsAdmin`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, Busy, ProductId};
use shop_runtime::statement;

use super::db::{self, AccountRow};
use super::{AccountChange, AccountEntry, Created, Link, NewAccount};
use crate::AppState;
use crate::api::JsonBody;
use crate::audit::{self, Action, Record};
use crate::auth::client::Client;
use crate::auth::{AccountsAdmin, Actor, Role, sessions, token};
use crate::error::{ApiError, FieldErrors};
use crate::fields::{self, rfc3339};
use crate::openapi::{Invalid, NotJson, SignInRequired};
use crate::validation::TITLE_MAX;

const NOT_FOUND: ApiError = ApiError::NotFound("Account not found");

fn account_id(raw: &str) -> Result<u64, ApiError> {
    shop_runtime::http::positive_id(raw).ok_or(NOT_FOUND)
}

/// Every account, by id.
#[utoipa::path(get, path = "/api/admins", tag = "accounts",
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Every account, by id", body = [AccountEntry]),
        (status = 401, response = SignInRequired),
        (status = 403, description = "Your role cannot manage accounts", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn list(
    _admin: AccountsAdmin,
    State(state): State<AppState>,
) -> Result<Json<Vec<AccountEntry>>, ApiError> {
    let rows = db::list(&state.core.pool).await?;
    Ok(Json(rows.into_iter().map(AccountEntry::from).collect()))
}

/// A new link for account `user_id` (whose email is `email`), its earlier unused ones
/// revoked, and its record (which names the account by its email, as its readers show it).
async fn new_link(
    tx: &mut sqlx::MySqlConnection,
    actor: &Actor,
    client: &Client,
    user_id: u64,
    email: &str,
) -> Result<(Link, Record), ApiError> {
    let secret = token::random_hex(32);
    let expires = db::insert_link(tx, user_id, actor.user_id(), &token::digest(&secret)).await?;
    let mut record = client.record(Action::AccountLinkCreate, Some(actor));
    record.account_id = Some(user_id);
    record.detail = Some(json!({"email": email}));
    let link = Link {
        link: format!("/set-password#{secret}"),
        expires_at: rfc3339(expires),
    };
    Ok((link, record))
}

/// Creates an account without password, and a one-time link (72 hours) with which its
/// owner sets one.
#[utoipa::path(post, path = "/api/admins", tag = "accounts", request_body = NewAccount,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "The account and its owner's link", body = Created),
        (status = 400, response = Invalid),
        (status = 409, description = "An account with this email exists: `{\"email\": [\"An account with this email exists.\"]}`", body = crate::openapi::ValidationErrors),
        (status = 401, response = SignInRequired),
        (status = 403, description = "Your role cannot manage accounts, or a request from another site", body = ErrorBody),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn create(
    AccountsAdmin(actor): AccountsAdmin,
    State(state): State<AppState>,
    client: Client,
    body: Result<JsonBody, ApiError>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let JsonBody(body) = body?;
    let map = fields::object(&body)?;
    let mut errors = FieldErrors::new();
    let name = fields::name(map, "name", TITLE_MAX, &mut errors);
    let email = fields::email(map, &mut errors);
    let role = fields::role(map, true, &mut errors);
    let (Some(name), Some(email), Some(role)) = (name, email, role) else {
        return Err(ApiError::Validation(errors));
    };
    let mut tx = state.core.pool.begin().await?;
    let Some(id) = db::insert(&mut tx, &name, &email, role).await? else {
        return Err(ApiError::Conflict(FieldErrors::from([(
            "email",
            vec!["An account with this email exists.".to_owned()],
        )])));
    };
    let (link, link_record) = new_link(&mut tx, &actor, &client, id, &email).await?;
    let mut record = client.record(Action::AccountCreate, Some(&actor));
    record.account_id = Some(id);
    record.changes = Some(json!({
        "name": {"old": null, "new": name},
        "email": {"old": null, "new": email},
        "role": {"old": null, "new": role},
    }));
    audit::record(&mut tx, &state.audit, &[record, link_record]).await?;
    let row = db::lock(&mut tx, id).await?.ok_or(NOT_FOUND)?;
    statement::commit(tx).await?;
    let created = Created {
        admin: row.into(),
        link: link.link,
        expires_at: link.expires_at,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// A change's new name, role and disabled state (each `None` when not given).
type Change = (Option<String>, Option<Role>, Option<bool>);

/// What a change asks for, read with Django REST Framework's messages.
fn change(body: &Value) -> Result<Change, ApiError> {
    let map = fields::object(body)?;
    let mut errors = FieldErrors::new();
    let name = map
        .contains_key("name")
        .then(|| fields::name(map, "name", TITLE_MAX, &mut errors))
        .flatten();
    let role = fields::role(map, false, &mut errors);
    let disabled = fields::boolean(map, "disabled", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if name.is_none() && role.is_none() && disabled.is_none() {
        return Err(ApiError::Validation(FieldErrors::from([(
            "non_field_errors",
            vec!["Give at least one of name, role and disabled.".to_owned()],
        )])));
    }
    Ok((name, role, disabled))
}

/// Changes an account's name, role or disabled state. Disabling ends its sessions and
/// tokens at once. The last enabled `admin` can be neither disabled nor made a viewer.
#[utoipa::path(patch, path = "/api/admins/{id}", tag = "accounts", request_body = AccountChange,
    params(("id" = inline(ProductId), Path, description = "Account id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "The account as it is now", body = AccountEntry),
        (status = 400, response = Invalid),
        (status = 401, response = SignInRequired),
        (status = 403, description = "Your role cannot manage accounts, or a request from another site", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "The change would leave no enabled admin: `{\"error\": \"NAME is the last enabled admin: …\"}`", body = ErrorBody),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn update(
    AccountsAdmin(actor): AccountsAdmin,
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    body: Result<JsonBody, ApiError>,
) -> Result<Json<AccountEntry>, ApiError> {
    let id = account_id(&id)?;
    let mut tx = state.core.pool.begin().await?;
    let admins = db::lock_enabled_admins(&mut tx).await?;
    let current = db::lock(&mut tx, id).await?.ok_or(NOT_FOUND)?;
    let JsonBody(body) = body?;
    let (name, role, disabled) = change(&body)?;
    let is_enabled_admin = |role: Role, disabled: bool| role == Role::Admin && !disabled;
    let after_role = role.unwrap_or(current.role);
    let after_disabled = disabled.unwrap_or(current.disabled);
    if is_enabled_admin(current.role, current.disabled)
        && !is_enabled_admin(after_role, after_disabled)
        && admins.iter().all(|&a| a == id)
    {
        return Err(ApiError::Refused(format!(
            "{} is the last enabled admin: make another account an admin first",
            current.name
        )));
    }
    let mut changes = serde_json::Map::new();
    if let Some(new) = name.as_ref().filter(|n| **n != current.name) {
        changes.insert("name".into(), json!({"old": current.name, "new": new}));
    }
    if after_role != current.role {
        changes.insert(
            "role".into(),
            json!({"old": current.role, "new": after_role}),
        );
    }
    if after_disabled != current.disabled {
        changes.insert(
            "disabled".into(),
            json!({"old": current.disabled, "new": after_disabled}),
        );
    }
    if !changes.is_empty() {
        db::update(&mut tx, id, name.as_deref(), role, disabled).await?;
        if after_disabled && !current.disabled {
            sessions::delete_all_but(&mut tx, id, None).await?;
        }
        let mut record = client.record(Action::AccountUpdate, Some(&actor));
        record.account_id = Some(id);
        record.changes = Some(Value::Object(changes));
        record.detail = Some(json!({"email": current.email}));
        audit::record(&mut tx, &state.audit, &[record]).await?;
    }
    let row: AccountRow = db::lock(&mut tx, id).await?.ok_or(NOT_FOUND)?;
    statement::commit(tx).await?;
    Ok(Json(row.into()))
}

/// A new one-time link for the account's owner (a forgotten password); its earlier unused
/// links stop working.
#[utoipa::path(post, path = "/api/admins/{id}/link", tag = "accounts",
    params(("id" = inline(ProductId), Path, description = "Account id")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 201, description = "The new link", body = Link),
        (status = 401, response = SignInRequired),
        (status = 403, description = "Your role cannot manage accounts, or a request from another site", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 503, response = Busy)))]
pub async fn link(
    AccountsAdmin(actor): AccountsAdmin,
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Link>), ApiError> {
    let id = account_id(&id)?;
    let mut tx = state.core.pool.begin().await?;
    let account = db::lock(&mut tx, id).await?.ok_or(NOT_FOUND)?;
    let (link, record) = new_link(&mut tx, &actor, &client, id, &account.email).await?;
    audit::record(&mut tx, &state.audit, &[record]).await?;
    statement::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(link)))
}
