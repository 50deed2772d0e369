//! The operator commands of `admin-api` (src/bin/admin-api.rs): `create-user`,
//! `set-password`, `create-token`, `revoke-token`. What they change is audited as the API's
//! changes are, by nobody (`actor` all `null`), with `{"via": "command"}` in `detail`.

use std::time::Duration;

use shop_runtime::Settings;

use crate::audit::{self, AuditLog};
use crate::settings::AdminAuthSettings;
use crate::{MIGRATOR, accounts, audit_database, auth, db, fields};

/// Creates a user with `role` and `password`, or finds the one with this email (whose
/// password and role are left as they are: see [`set_password`]). Returns its id and whether
/// it is new. A new user needs a password. Audited (`account.create`, by nobody, `{"via":
/// "command"}`).
pub async fn create_user(
    settings: &Settings,
    auth: &AdminAuthSettings,
    name: &str,
    email: &str,
    role: auth::Role,
    password: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<(u64, bool)> {
    let name = name.trim();
    let email = email.trim().to_lowercase();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 200,
        "--name must be 1 to 200 characters"
    );
    anyhow::ensure!(
        fields::is_email(&email),
        "--email must be an address like ada@example.com"
    );
    let (pool, log) = admin_pool(settings, auth).await?;
    if let Some(account) = db::account_by_email(&pool, &email).await? {
        pool.close().await;
        return Ok((account.id, false));
    }
    let password = password()?;
    auth::password::check_new(&password).map_err(anyhow::Error::msg)?;
    let hash = auth::password::hash(password).await?;
    let mut tx = pool.begin().await?;
    let id = accounts::db::insert(&mut tx, name, &email, role).await?;
    if let Some(id) = id {
        accounts::db::set_password(&mut tx, id, &hash).await?;
        let mut record = audit::Record::new(audit::Action::AccountCreate, None);
        record.account_id = Some(id);
        record.changes = Some(serde_json::json!({
            "name": {"old": null, "new": name},
            "email": {"old": null, "new": email},
            "role": {"old": null, "new": role},
        }));
        record.detail = Some(serde_json::json!({"via": "command"}));
        audit::record(&mut tx, &log, &[record]).await?;
    }
    tx.commit().await?;
    let found = match id {
        Some(id) => (id, true),
        None => (db::upsert_user(&pool, name, &email).await?.0, false),
    };
    pool.close().await;
    Ok(found)
}

/// Sets the password of the user with this email.
pub async fn set_password(
    settings: &Settings,
    auth: &AdminAuthSettings,
    email: &str,
    password: String,
) -> anyhow::Result<()> {
    auth::password::check_new(&password).map_err(anyhow::Error::msg)?;
    let hash = auth::password::hash(password).await?;
    let (pool, _) = admin_pool(settings, auth).await?;
    let found = db::set_password_hash(&pool, &email.trim().to_lowercase(), &hash).await?;
    pool.close().await;
    anyhow::ensure!(
        found,
        "no user with email {email:?} (create it with create-user)"
    );
    Ok(())
}

/// A `token.*` record of the commands: by nobody, `{"via": "command", "token": name}`.
fn command_record(action: audit::Action, name: &str) -> audit::Record {
    let mut record = audit::Record::new(action, None);
    record.detail = Some(serde_json::json!({"via": "command", "token": name}));
    record
}

/// Creates an API token without owner (it acts as an admin) named `name` and returns it:
/// the only time it is shown. Audited (`token.create`).
pub async fn create_token(
    settings: &Settings,
    auth: &AdminAuthSettings,
    name: &str,
) -> anyhow::Result<String> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 100,
        "--name must be 1 to 100 characters"
    );
    let token = auth::token::generate();
    let (pool, log) = admin_pool(settings, auth).await?;
    let mut tx = pool.begin().await?;
    let created = db::insert_token(&mut *tx, name, &auth::token::digest(&token)).await?;
    if created {
        let record = command_record(audit::Action::TokenCreate, name);
        audit::record(&mut tx, &log, &[record]).await?;
    }
    tx.commit().await?;
    pool.close().await;
    anyhow::ensure!(
        created,
        "a token named {name:?} exists already (revoke it first, or pick another name)"
    );
    Ok(token)
}

/// Revokes the live token without owner named `name`; its holders get `401` from then on.
/// Audited (`token.revoke`).
pub async fn revoke_token(
    settings: &Settings,
    auth: &AdminAuthSettings,
    name: &str,
) -> anyhow::Result<()> {
    let name = name.trim();
    let (pool, log) = admin_pool(settings, auth).await?;
    let mut tx = pool.begin().await?;
    let revoked = db::revoke_token(&mut *tx, name).await?;
    if revoked {
        let record = command_record(audit::Action::TokenRevoke, name);
        audit::record(&mut tx, &log, &[record]).await?;
    }
    tx.commit().await?;
    pool.close().await;
    anyhow::ensure!(
        revoked,
        "no live token without owner named {name:?} (an account's own token is revoked in the browser)"
    );
    Ok(())
}

/// The admin database, migrated, and the audit log beside it (created if missing), for the
/// operator commands.
async fn admin_pool(
    settings: &Settings,
    auth: &AdminAuthSettings,
) -> anyhow::Result<(sqlx::MySqlPool, AuditLog)> {
    let pool = shop_runtime::db::connect(&settings.database, Duration::from_secs(10)).await?;
    shop_runtime::migrations::apply(&pool, &MIGRATOR).await?;
    let database = audit_database(&pool, auth)?;
    audit::prepare(&pool, &database).await?;
    Ok((pool, AuditLog::in_database(&database)))
}
