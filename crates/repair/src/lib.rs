//! Disaster recovery between the catalogue (admin-svc's database) and the shop (main-svc's):
//! the drift check and the repair. docs/operating/backup-and-repair.md is the operator's
//! side; the design, in short:
//!
//! - **Credentials**: the repair does what the two consumers do, so it logs in as them:
//!   main-consumer's user on the shop's database (it applies catalogue states to the mirror
//!   under the consumer's own rules), admin-consumer's user on the catalogue's (it sets
//!   like counts). No user reads both databases but this operator's command.
//! - **The mirror** ([`mirror`]): every difference is applied product by product under the
//!   row lock and the version rule that main-consumer uses, so events still flowing
//!   interleave with the repair exactly as they interleave with each other.
//! - **The counts** ([`counts`]): a catalogue's count is set, under the row locks that
//!   admin-consumer takes to apply likes, to the shop's like rows minus the like events not
//!   applied yet, so that nothing is lost or doubled while likes keep arriving.

pub mod counts;
pub mod mirror;
pub mod report;

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::MySqlPool;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

/// Runs one batch's transaction again when InnoDB chose it as a deadlock's victim (rolled
/// back whole): the repair takes the same row locks as the consumers, in the same order
/// where it can, but a mirror row that does not exist yet is locked by a gap, and two gap
/// locks then inserts deadlock as main-consumer's own transactions may.
pub async fn retrying<T, F, Fut>(mut batch: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut attempt = 0u32;
    loop {
        match batch().await {
            Err(e) if attempt < 10 && shop_runtime::db::is_deadlock(&e) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
            }
            result => return result,
        }
    }
}

/// Why the command stopped without doing its work.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Refused(String),
    #[error("the {side} database: {source}")]
    Database {
        side: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl Refusal {
    fn db(side: &'static str) -> impl FnOnce(sqlx::Error) -> Refusal {
        move |source| Refusal::Database { side, source }
    }
}

/// The two databases, checked to be what they are named as.
pub struct Databases {
    pub admin: MySqlPool,
    pub main: MySqlPool,
    pub admin_name: String,
    pub main_name: String,
}

/// Tables and columns each side must have (and the other has not): a database given in the
/// wrong place, an empty one, or the audit log is refused before anything is read from it.
const ADMIN_HAS: &[(&str, &str)] = &[
    ("products", "likes"),
    ("products", "version"),
    ("users", "email"),
    ("processed_messages", "message_id"),
    ("cache_versions", "version"),
];
const MAIN_HAS: &[(&str, &str)] = &[
    ("products", "deleted_at"),
    ("product_likes", "seq"),
    ("product_like_counts", "shard"),
    ("outbox", "body"),
    ("cache_versions", "version"),
];

impl Databases {
    /// Connects to both and refuses unless each is the service's database it is named as.
    pub async fn connect(admin_url: &str, main_url: &str) -> Result<Self, Refusal> {
        let admin = pool(admin_url, "catalogue (admin)").await?;
        let main = pool(main_url, "shop (main)").await?;
        let admin_name = check(&admin, "catalogue (admin)", ADMIN_HAS, "product_likes").await?;
        let main_name = check(&main, "shop (main)", MAIN_HAS, "users").await?;
        let (a, m) = (where_is(admin_url), where_is(main_url));
        if a == m {
            return Err(Refusal::Refused(format!(
                "refusing: the catalogue and the shop are the same database ({a}): give each its own (nothing was changed)"
            )));
        }
        Ok(Databases {
            admin,
            main,
            admin_name,
            main_name,
        })
    }
}

/// Whether the catalogue would give a new product an id the shop already knows: after the
/// catalogue was restored from a backup, its `AUTO_INCREMENT` is the backup's, while the
/// shop may hold later products (or their tombstones, which are final). `Some(why)` then:
/// the repair would tombstone those products and new ones would reuse their ids, never to
/// be shown; an operator moves the counter first.
pub async fn ids_behind(dbs: &Databases) -> Result<Option<String>, sqlx::Error> {
    let next: Option<u64> = sqlx::query_scalar(
        r#"SELECT AUTO_INCREMENT FROM information_schema.tables
           WHERE table_schema = DATABASE() AND table_name = 'products'"#,
    )
    .fetch_one(&dbs.admin)
    .await?;
    let highest: Option<u64> = sqlx::query_scalar("SELECT MAX(id) FROM products")
        .fetch_one(&dbs.main)
        .await?;
    Ok(match (next, highest) {
        (Some(next), Some(highest)) if next <= highest => Some(format!(
            "the catalogue's next product id is {next}, but the shop already knows id {highest}: \
             was the catalogue restored? Run ALTER TABLE products AUTO_INCREMENT = {} on the \
             catalogue's database (as its API's user) before the repair",
            highest + 1
        )),
        _ => None,
    })
}

async fn pool(url: &str, side: &'static str) -> Result<MySqlPool, Refusal> {
    let options: MySqlConnectOptions = url.parse().map_err(|e| {
        Refusal::Refused(format!(
            "refusing: the {side} database URL is not valid: {e}"
        ))
    })?;
    if where_is(url).ends_with('/') {
        return Err(Refusal::Refused(format!(
            "refusing: the {side} database URL names no database: mysql://USER:PASSWORD@HOST:PORT/DATABASE"
        )));
    }
    MySqlPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| match &source {
            // 1049 Unknown database (as root); 1044 access denied to a database, which is
            // what a user with rights on one database hears of any other name.
            sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("42000")) => {
                Refusal::Refused(format!(
                    "refusing: the {side} database {} does not exist or this user may not use it: check its name ({}; nothing was changed)",
                    where_is(url),
                    e.message()
                ))
            }
            _ => Refusal::Database { side, source },
        })
}

/// host:port/database of a URL, without its user and password (for messages).
pub fn where_is(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(3306),
            u.path()
        ),
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

/// The database's name, once it has every table and column of `wanted` and not `foreign`
/// (a table of the other service's).
async fn check(
    pool: &MySqlPool,
    side: &'static str,
    wanted: &[(&str, &str)],
    foreign: &str,
) -> Result<String, Refusal> {
    let name: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(pool)
        .await
        .map_err(Refusal::db(side))?;
    let name = name.unwrap_or_default();
    let columns: Vec<(String, String)> = sqlx::query_as(
        r#"SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR)
           FROM information_schema.columns WHERE table_schema = DATABASE()"#,
    )
    .fetch_all(pool)
    .await
    .map_err(Refusal::db(side))?;
    let have: BTreeSet<(String, String)> = columns.into_iter().collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(t, c)| !have.contains(&((*t).to_owned(), (*c).to_owned())))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    let alien = have.iter().any(|(t, _)| t == foreign);
    if !missing.is_empty() || alien {
        let why = if alien {
            format!("it has table {foreign}, which belongs to the other service")
        } else {
            format!("it has no {}", missing.join(", "))
        };
        return Err(Refusal::Refused(format!(
            "refusing: database `{name}`, given as the {side} database, is not that service's \
             migrated database ({why}); check the name (nothing was changed)"
        )));
    }
    Ok(name)
}
