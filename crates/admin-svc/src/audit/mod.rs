//! The audit log: who changed what, when (docs/contract.md, "Change history and the audit
//! log").
//!
//! Every catalogue change writes its record in the transaction of the change and its outbox
//! event, so neither is ever committed without the other. Sign-ins, tokens and account
//! changes are recorded too. The table lives in its own database (`AUDIT_DATABASE`, by
//! default the service's database name with `_audit`), where admin-api's database user may
//! only `SELECT` and `INSERT` (scripts/grants.sql): a compromised API cannot rewrite history.
//! Its schema is created here at start (`CREATE … IF NOT EXISTS`), not by a migration, since
//! its database's name is a setting; a later change to it is an expand-only `ALTER` that an
//! operator runs as root (the API may not alter it).

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;
use shop_runtime::statement;
use sqlx::{MySqlConnection, MySqlPool};

use crate::auth::Actor;

pub mod product;
pub mod read;
pub mod retention;
pub mod routes;

/// The columns of the audit log, in the database `{database}` (empty: the service's own,
/// as router tests have it).
pub fn create_table_sql(database: Option<&str>) -> String {
    let table = qualified(database);
    format!(
        r#"CREATE TABLE IF NOT EXISTS {table} (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at              TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    action          VARCHAR(32)     NOT NULL,
    actor_user_id   BIGINT UNSIGNED NULL,
    actor_name      VARCHAR(200)    NULL,
    actor_token     VARCHAR(100)    NULL,
    product_id      BIGINT UNSIGNED NULL,
    product_version BIGINT UNSIGNED NULL,
    account_id      BIGINT UNSIGNED NULL,
    changes         LONGTEXT        NULL CHECK (changes IS NULL OR JSON_VALID(changes)),
    detail          LONGTEXT        NULL CHECK (detail IS NULL OR JSON_VALID(detail)),
    ip              VARCHAR(45)     NULL,
    trace_id        CHAR(32)        NULL,
    KEY by_product (product_id, id),
    KEY by_actor (actor_user_id, id),
    KEY by_action (action, id),
    KEY by_account (account_id, id),
    KEY by_at (at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"#
    )
}

fn qualified(database: Option<&str>) -> String {
    match database {
        Some(db) => format!("`{}`.audit_log", db.replace('`', "``")),
        None => "audit_log".to_owned(),
    }
}

/// Where the audit log is: its table's name as statements use it.
#[derive(Debug, Clone)]
pub struct AuditLog {
    table: Arc<str>,
}

impl AuditLog {
    /// The log in database `database`.
    pub fn in_database(database: &str) -> Self {
        AuditLog {
            table: qualified(Some(database)).into(),
        }
    }

    /// The log in the service's own database (router tests, whose migrator creates it:
    /// `crate::testing::MIGRATOR`).
    pub fn in_service_database() -> Self {
        AuditLog {
            table: qualified(None).into(),
        }
    }

    /// The table, as statements name it.
    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Creates the audit log's database and table if missing.
pub async fn prepare(pool: &MySqlPool, database: &str) -> Result<(), sqlx::Error> {
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(database)
    .fetch_optional(pool)
    .await?;
    if exists.is_none() {
        let sql = format!(
            "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            database.replace('`', "``")
        );
        sqlx::raw_sql(&sql).execute(pool).await?;
    }
    sqlx::raw_sql(&create_table_sql(Some(database)))
        .execute(pool)
        .await?;
    Ok(())
}

/// What was done. The strings are the API's (`?action=`) and the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ProductCreate,
    ProductUpdate,
    ProductDelete,
    ProductBulkDelete,
    SignIn,
    SignInFailed,
    SignOut,
    PasswordChange,
    SessionRevoke,
    TokenCreate,
    TokenRevoke,
    AccountCreate,
    AccountUpdate,
    AccountLinkCreate,
    AccountLinkUse,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Action::ProductCreate,
        Action::ProductUpdate,
        Action::ProductDelete,
        Action::ProductBulkDelete,
        Action::SignIn,
        Action::SignInFailed,
        Action::SignOut,
        Action::PasswordChange,
        Action::SessionRevoke,
        Action::TokenCreate,
        Action::TokenRevoke,
        Action::AccountCreate,
        Action::AccountUpdate,
        Action::AccountLinkCreate,
        Action::AccountLinkUse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ProductCreate => "product.create",
            Action::ProductUpdate => "product.update",
            Action::ProductDelete => "product.delete",
            Action::ProductBulkDelete => "product.bulk_delete",
            Action::SignIn => "auth.sign_in",
            Action::SignInFailed => "auth.sign_in_failed",
            Action::SignOut => "auth.sign_out",
            Action::PasswordChange => "auth.password_change",
            Action::SessionRevoke => "auth.session_revoke",
            Action::TokenCreate => "token.create",
            Action::TokenRevoke => "token.revoke",
            Action::AccountCreate => "account.create",
            Action::AccountUpdate => "account.update",
            Action::AccountLinkCreate => "account.link_create",
            Action::AccountLinkUse => "account.link_use",
        }
    }

    pub fn parse(raw: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// One record, before it is written.
#[derive(Debug, Clone)]
pub struct Record {
    pub action: Action,
    /// Who: `None` for nobody known (a failed sign-in).
    pub actor: Option<Actor>,
    pub product_id: Option<u64>,
    /// The product's version after the change (before it, for a delete).
    pub product_version: Option<u64>,
    /// The account an account action is about.
    pub account_id: Option<u64>,
    /// Field → `{"old", "new"}`.
    pub changes: Option<Value>,
    pub detail: Option<Value>,
    pub ip: Option<IpAddr>,
    pub trace_id: Option<String>,
}

impl Record {
    /// A record of `action` by `actor`, about nothing yet.
    pub fn new(action: Action, actor: Option<&Actor>) -> Self {
        Record {
            action,
            actor: actor.cloned(),
            product_id: None,
            product_version: None,
            account_id: None,
            changes: None,
            detail: None,
            ip: None,
            trace_id: None,
        }
    }
}

/// Writes `records` in one statement, on `conn`: the transaction of the change they
/// describe.
pub async fn record(
    conn: &mut MySqlConnection,
    log: &AuditLog,
    records: &[Record],
) -> Result<(), sqlx::Error> {
    if records.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::new(format!(
        "INSERT INTO {} (action, actor_user_id, actor_name, actor_token, product_id, \
         product_version, account_id, changes, detail, ip, trace_id) ",
        log.table()
    ));
    q.push_values(records, |mut row, r| {
        let account = r.actor.as_ref().and_then(|a| a.account.as_ref());
        row.push_bind(r.action.as_str())
            .push_bind(account.map(|a| a.id))
            .push_bind(account.map(|a| a.name.clone()))
            .push_bind(r.actor.as_ref().and_then(|a| a.token.clone()))
            .push_bind(r.product_id)
            .push_bind(r.product_version)
            .push_bind(r.account_id)
            .push_bind(r.changes.as_ref().map(Value::to_string))
            .push_bind(r.detail.as_ref().map(Value::to_string))
            .push_bind(r.ip.map(|ip| ip.to_string()))
            .push_bind(r.trace_id.clone());
    });
    statement::run("audit", "INSERT audit_log", q.build().execute(conn)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_parses_back_and_nothing_else_does() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("product"), None);
        assert_eq!(Action::parse("PRODUCT.CREATE"), None);
    }

    #[test]
    fn the_table_is_named_in_its_database_with_backquotes_doubled() {
        assert_eq!(qualified(Some("admin_audit")), "`admin_audit`.audit_log");
        assert_eq!(qualified(Some("a`b")), "`a``b`.audit_log");
        assert_eq!(qualified(None), "audit_log");
    }
}
