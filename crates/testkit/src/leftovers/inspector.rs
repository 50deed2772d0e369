//! MariaDB as the checks see it, from outside the services.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::{Connection as _, MySqlConnection};

use crate::mysql_server_url;

/// A connection to the server's `mysql` database, so that it is never counted among the
/// connections on a test's databases.
pub struct Inspector {
    conn: MySqlConnection,
}

/// A transaction open on a connection that is idle (`Sleep`) as MariaDB sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleTransaction {
    pub thread: i64,
    pub trx_id: String,
    pub open_secs: i64,
    pub rows_locked: i64,
}

impl Inspector {
    pub async fn connect() -> Self {
        let conn = MySqlConnection::connect(&format!("{}/mysql", mysql_server_url()))
            .await
            .unwrap();
        Inspector { conn }
    }

    /// Connections on database `db` by command (`Sleep`, `Query`, …).
    pub async fn commands(&mut self, db: &str) -> BTreeMap<String, i64> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            r#"SELECT CAST(command AS CHAR), COUNT(*) FROM information_schema.processlist
               WHERE db = ? GROUP BY command"#,
        )
        .bind(db)
        .fetch_all(&mut self.conn)
        .await
        .unwrap();
        rows.into_iter().collect()
    }

    /// Transactions open on idle connections of database `db`.
    pub async fn idle_transactions(&mut self, db: &str) -> Vec<IdleTransaction> {
        let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            r#"SELECT CAST(p.id AS SIGNED), CAST(t.trx_id AS CHAR),
                      CAST(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS SIGNED),
                      CAST(t.trx_rows_locked AS SIGNED)
               FROM information_schema.innodb_trx t
               JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
               WHERE p.db = ? AND p.command = 'Sleep'"#,
        )
        .bind(db)
        .fetch_all(&mut self.conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(thread, trx_id, open_secs, rows_locked)| IdleTransaction {
                thread,
                trx_id,
                open_secs,
                rows_locked,
            })
            .collect()
    }

    /// Outbox rows of `db` not yet published.
    pub async fn pending_outbox(&mut self, db: &str) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM `{db}`.outbox WHERE published_at IS NULL"
        ))
        .fetch_one(&mut self.conn)
        .await
        .unwrap()
    }

    /// The product ids the outbox rows of `db` with `content_type` name (a JSON number, a
    /// JSON string, or an object with `id`), one per row.
    pub async fn outbox_ids(&mut self, db: &str, content_type: &str) -> Vec<u64> {
        let bodies: Vec<Vec<u8>> = sqlx::query_scalar(&format!(
            "SELECT body FROM `{db}`.outbox WHERE content_type = ? ORDER BY id"
        ))
        .bind(content_type)
        .fetch_all(&mut self.conn)
        .await
        .unwrap();
        bodies
            .iter()
            .map(|b| {
                let v: Value = serde_json::from_slice(b).unwrap();
                let id = if v.is_object() { &v["id"] } else { &v };
                id.as_u64()
                    .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or_else(|| panic!("{content_type} outbox body {v} names no id"))
            })
            .collect()
    }

    /// Likes per product in the `product_liked` (one each) and `products_liked` (a count per
    /// product, main-api's group commits) rows of `db`'s outbox.
    pub async fn outbox_likes(&mut self, db: &str) -> std::collections::HashMap<u64, u64> {
        let mut likes = std::collections::HashMap::new();
        for id in self.outbox_ids(db, "product_liked").await {
            *likes.entry(id).or_default() += 1;
        }
        let bodies: Vec<Vec<u8>> = sqlx::query_scalar(&format!(
            "SELECT body FROM `{db}`.outbox WHERE content_type = 'products_liked' ORDER BY id"
        ))
        .fetch_all(&mut self.conn)
        .await
        .unwrap();
        for body in bodies {
            let v: Value = serde_json::from_slice(&body).unwrap();
            for like in v["likes"]
                .as_array()
                .unwrap_or_else(|| panic!("products_liked body {v}"))
            {
                let (Some(id), Some(n)) = (like["id"].as_u64(), like["count"].as_u64()) else {
                    panic!("products_liked body {v}");
                };
                *likes.entry(id).or_default() += n;
            }
        }
        likes
    }

    pub(super) async fn pairs(&mut self, sql: &str) -> Vec<(u64, u64)> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(sql).fetch_all(&mut self.conn).await.unwrap();
        rows.into_iter()
            .map(|(a, b)| (a as u64, b as u64))
            .collect()
    }
}
