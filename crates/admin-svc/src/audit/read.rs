//! Reading the audit log: entries newest first, filtered, one keyset page at a time (the
//! table's indexes each end with `id`, so a filtered page reads only its own rows).

use serde::Serialize;
use serde_json::Value;
use shop_runtime::statement;
use sqlx::{FromRow, MySqlPool, QueryBuilder};
use utoipa::ToSchema;

use super::{Action, AuditLog};

/// Who did it, as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntryActor {
    /// The account's id (the one signed in, or the token's owner).
    pub user_id: Option<u64>,
    /// The account's name when it acted.
    pub name: Option<String>,
    /// The API token's name, for a token.
    pub token: Option<String>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Entry {
    pub id: u64,
    /// When, in UTC with microseconds (`2026-12-07T13:01:25.123456Z`).
    #[schema(format = DateTime)]
    pub at: String,
    /// What was done: `product.create`, `product.update`, `auth.sign_in`, …
    pub action: String,
    pub actor: EntryActor,
    pub product_id: Option<u64>,
    /// The product's version after the change (the version deleted, for a delete).
    pub product_version: Option<u64>,
    /// The account an account action is about.
    pub account_id: Option<u64>,
    /// Field → `{"old", "new"}`.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<Value>,
    /// What else the action needs.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
    /// The client's address.
    pub ip: Option<String>,
    /// The request's trace id (32 hex digits).
    pub trace_id: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: u64,
    at: String,
    action: String,
    actor_user_id: Option<u64>,
    actor_name: Option<String>,
    actor_token: Option<String>,
    product_id: Option<u64>,
    product_version: Option<u64>,
    account_id: Option<u64>,
    changes: Option<String>,
    detail: Option<String>,
    ip: Option<String>,
    trace_id: Option<String>,
}

impl From<Row> for Entry {
    fn from(r: Row) -> Self {
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Entry {
            id: r.id,
            at: r.at,
            action: r.action,
            actor: EntryActor {
                user_id: r.actor_user_id,
                name: r.actor_name,
                token: r.actor_token,
            },
            product_id: r.product_id,
            product_version: r.product_version,
            account_id: r.account_id,
            changes: json(r.changes),
            detail: json(r.detail),
            ip: r.ip,
            trace_id: r.trace_id,
        }
    }
}

/// Which entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub action: Option<Action>,
    /// An account id: the actor's.
    pub actor: Option<u64>,
    pub product: Option<u64>,
    /// Only entries with a smaller id.
    pub before: Option<u64>,
}

/// Up to `limit` entries `filter` selects, newest first, and whether older ones follow.
pub async fn entries(
    pool: &MySqlPool,
    log: &AuditLog,
    filter: &Filter,
    limit: u64,
) -> Result<(Vec<Entry>, bool), sqlx::Error> {
    // The session's time zone is UTC (sqlx sets it), so `at` reads as UTC.
    let mut q = QueryBuilder::new(
        "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ') AS at, action, actor_user_id, \
         actor_name, actor_token, product_id, product_version, account_id, changes, detail, \
         ip, trace_id FROM ",
    );
    q.push(log.table()).push(" WHERE TRUE");
    if let Some(action) = filter.action {
        q.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(actor) = filter.actor {
        q.push(" AND actor_user_id = ").push_bind(actor);
    }
    if let Some(product) = filter.product {
        q.push(" AND product_id = ").push_bind(product);
    }
    if let Some(before) = filter.before {
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
    let mut rows: Vec<Row> = statement::run(
        "audit_entries",
        "SELECT audit_log",
        q.build_query_as().fetch_all(pool),
    )
    .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((rows.into_iter().map(Entry::from).collect(), more))
}

/// Whether product `id` exists or ever had an entry.
pub async fn product_known(pool: &MySqlPool, log: &AuditLog, id: u64) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM products WHERE id = ?) \
            OR EXISTS (SELECT 1 FROM {} WHERE product_id = ?)",
        log.table()
    );
    let known: i64 = statement::run(
        "audit_product_known",
        "SELECT audit_log",
        sqlx::query_scalar(&sql).bind(id).bind(id).fetch_one(pool),
    )
    .await?;
    Ok(known != 0)
}
