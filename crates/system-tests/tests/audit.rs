//! The audit log with the real processes and their real database users:
//!
//! - `the_api_user_may_only_read_and_append_the_audit_log`: admin-api's database user (the
//!   one scripts/grants.sql makes) may `SELECT` and `INSERT` audit records but not `UPDATE`,
//!   `DELETE`, truncate or drop them (MariaDB error 1142), so a compromised API cannot rewrite
//!   history; admin-consumer's user may delete (retention), not insert or update.
//! - `every_committed_change_has_its_record_when_the_database_is_cut_mid_stream`: admin-api
//!   reaches MariaDB through a proxy that is cut twice while products are created, updated
//!   and deleted; afterwards every product's records are exactly its committed changes
//!   (versions 1, 2, … with no gap or repeat, a delete last for a product that is gone, the
//!   last version the row's), every accepted answer has its record, and the shop's mirror
//!   (fed by the outbox) converges to the catalogue.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, MySqlConnection};
use testkit::{Overrides, Proc, ShopStack, TcpProxy};
use tokio::sync::Mutex;

/// The MariaDB error number of `result`'s error, if it failed.
fn refused<T>(result: Result<T, sqlx::Error>) -> Option<u16> {
    let e = result.err()?;
    let db = e.as_database_error()?;
    Some(
        db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()?
            .number(),
    )
}

async fn run(conn: &mut MySqlConnection, sql: &str) -> Result<u64, sqlx::Error> {
    sqlx::raw_sql(sql)
        .execute(conn)
        .await
        .map(|d| d.rows_affected())
}

#[tokio::test]
async fn the_api_user_may_only_read_and_append_the_audit_log() {
    let stack = ShopStack::start(&testkit::amqp_url(), Overrides::default()).await;
    let id = stack.client.create("Audited mug", "/mug.png").await;
    let audit_db = format!("{}_audit", stack.admin_db.name);

    let api = &stack.admin_users.api;
    let mut conn = MySqlConnection::connect(&api.url(&audit_db)).await.unwrap();
    let (action, product): (String, u64) =
        sqlx::query_as("SELECT action, product_id FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((action.as_str(), product), ("product.create", id));
    assert_eq!(
        run(
            &mut conn,
            "INSERT INTO audit_log (action) VALUES ('auth.sign_out')"
        )
        .await
        .unwrap(),
        1
    );
    for sql in [
        "UPDATE audit_log SET action = 'product.delete'",
        "DELETE FROM audit_log",
        "TRUNCATE TABLE audit_log",
        "DROP TABLE audit_log",
        "ALTER TABLE audit_log ADD COLUMN forged INT",
    ] {
        assert_eq!(refused(run(&mut conn, sql).await), Some(1142), "{sql}");
    }
    conn.close().await.unwrap();

    let consumer = &stack.admin_users.consumer;
    let mut conn = MySqlConnection::connect(&consumer.url(&audit_db))
        .await
        .unwrap();
    for sql in [
        "UPDATE audit_log SET action = 'product.delete'",
        "INSERT INTO audit_log (action) VALUES ('auth.sign_out')",
    ] {
        assert_eq!(refused(run(&mut conn, sql).await), Some(1142), "{sql}");
    }
    assert_eq!(
        run(
            &mut conn,
            "DELETE FROM audit_log WHERE action = 'auth.sign_out'"
        )
        .await
        .unwrap(),
        1
    );
    conn.close().await.unwrap();
    stack.stop().await;
}

/// What the stream's answers said was done: (product, what, version) of every accepted
/// change; `version` is the product's after the change (the one deleted, for a delete).
type Accepted = Arc<Mutex<Vec<(u64, &'static str, u64)>>>;

/// One worker's writes until `until`: a product created, changed three times (`PUT`, then
/// `PATCH` with the `ETag` it read), then deleted (every other one in a bulk delete).
async fn writes(
    http: reqwest::Client,
    admin: String,
    worker: usize,
    until: Instant,
    accepted: Accepted,
) {
    let timeout = Duration::from_secs(5);
    let mut round = 0;
    while Instant::now() < until {
        round += 1;
        let title = format!("W{worker} R{round}");
        let res = http
            .post(format!("{admin}/api/products"))
            .timeout(timeout)
            .json(&json!({"title": title, "image": "/m.png"}))
            .send()
            .await;
        let Ok(res) = res else { continue };
        if res.status() != StatusCode::CREATED {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let id = res.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
        accepted.lock().await.push((id, "product.create", 1));
        let path = format!("{admin}/api/products/{id}");
        for step in 0..3 {
            let body = json!({"title": format!("{title} v{step}"), "image": "/m.png"});
            let req = if step == 0 {
                http.put(&path).json(&body)
            } else {
                let tag = match http.get(&path).timeout(timeout).send().await {
                    Ok(r) if r.status() == StatusCode::OK => r.headers()["etag"].clone(),
                    _ => continue,
                };
                http.patch(&path)
                    .header("if-match", tag)
                    .json(&json!({"title": body["title"]}))
            };
            if let Ok(res) = req.timeout(timeout).send().await
                && res.status() == StatusCode::ACCEPTED
            {
                let etag = res.headers()["etag"].to_str().unwrap().trim_matches('"');
                let version: u64 = etag.parse().unwrap();
                accepted.lock().await.push((id, "product.update", version));
            }
        }
        let version_now = http.get(&path).timeout(timeout).send().await;
        let Ok(version_now) = version_now else {
            continue;
        };
        if version_now.status() != StatusCode::OK {
            continue;
        }
        let tag = version_now.headers()["etag"].to_str().unwrap().to_owned();
        let version: u64 = tag.trim_matches('"').parse().unwrap();
        if round % 2 == 0 {
            let res = http
                .post(format!("{admin}/api/products/bulk-delete"))
                .timeout(timeout)
                .json(&json!({"ids": [id, u64::MAX]}))
                .send()
                .await;
            if let Ok(res) = res
                && res.status() == StatusCode::OK
                && res.json::<Value>().await.unwrap()["deleted"] == 1
            {
                accepted
                    .lock()
                    .await
                    .push((id, "product.bulk_delete", version));
            }
        } else {
            let res = http
                .delete(&path)
                .header("if-match", &tag)
                .timeout(timeout)
                .send()
                .await;
            if let Ok(res) = res
                && res.status() == StatusCode::NO_CONTENT
            {
                accepted.lock().await.push((id, "product.delete", version));
            }
        }
    }
}

#[tokio::test]
async fn every_committed_change_has_its_record_when_the_database_is_cut_mid_stream() {
    let proxy = TcpProxy::start(testkit::mysql_addr(), true).await;
    let overrides = Overrides::from([(
        Proc::AdminApi,
        vec![
            (
                "DATABASE_URL",
                format!("mysql://{{user}}:{{password}}@{}/{{database}}", proxy.addr),
            ),
            ("DB_ACQUIRE_TIMEOUT_MS", "1000".to_owned()),
        ],
    )]);
    let stack = ShopStack::start(&testkit::amqp_url(), overrides).await;
    let accepted: Accepted = Arc::default();
    let until = Instant::now() + Duration::from_secs(9);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(writes(
                stack.client.http.clone(),
                stack.client.admin.clone(),
                w,
                until,
                accepted.clone(),
            ))
        })
        .collect();
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(2000)).await;
        proxy.cut();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        proxy.restore();
    }
    for w in workers {
        w.await.unwrap();
    }
    stack.wait_healthy().await;

    // Root's view of both databases.
    let mut admin = stack.admin_db.connect().await;
    let products: BTreeMap<u64, u64> = sqlx::query_as("SELECT id, version FROM products")
        .fetch_all(&mut admin)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let sql = format!(
        "SELECT product_id, action, product_version FROM `{}_audit`.audit_log \
         WHERE product_id IS NOT NULL ORDER BY id",
        stack.admin_db.name
    );
    let records: Vec<(u64, String, u64)> =
        sqlx::query_as(&sql).fetch_all(&mut admin).await.unwrap();
    let mut per_product: BTreeMap<u64, Vec<(String, u64)>> = BTreeMap::new();
    for (id, action, version) in &records {
        per_product
            .entry(*id)
            .or_default()
            .push((action.clone(), *version));
    }
    for id in products.keys() {
        assert!(per_product.contains_key(id), "product {id} has no record");
    }
    let mut deleted = 0;
    for (id, history) in &per_product {
        let (creates, rest) = history.split_at(1);
        assert_eq!(
            creates[0],
            ("product.create".to_owned(), 1),
            "{id}: {history:?}"
        );
        let mut expected = 1;
        for (i, (action, version)) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            if action == "product.update" {
                expected += 1;
                assert_eq!(*version, expected, "{id}: {history:?}");
            } else {
                assert!(
                    last && (action == "product.delete" || action == "product.bulk_delete"),
                    "{id}: {history:?}"
                );
                assert_eq!(
                    *version, expected,
                    "{id}: deleted at its version: {history:?}"
                );
            }
        }
        match products.get(id) {
            Some(version) => assert_eq!(*version, expected, "{id}: {history:?}"),
            None => {
                assert!(
                    history.last().unwrap().0.contains("delete"),
                    "{id}: {history:?}"
                );
                deleted += 1;
            }
        }
    }
    let accepted = accepted.lock().await;
    for (id, action, version) in accepted.iter() {
        assert!(
            records
                .iter()
                .any(|(i, a, v)| i == id && a == action && v == version),
            "accepted {action} of {id} at {version} has no record"
        );
    }
    assert!(
        accepted.len() > 20 && deleted > 3,
        "too few writes to tell: {} accepted, {deleted} deleted",
        accepted.len()
    );
    println!(
        "{} records of {} products, {} answers accepted, {} products deleted",
        records.len(),
        per_product.len(),
        accepted.len(),
        deleted
    );

    // The outbox carried every committed change to the shop.
    let ids = |list: Vec<Value>| -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = list
            .iter()
            .map(|p| {
                (
                    p["id"].as_u64().unwrap(),
                    p["title"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    testkit::eventually(
        Duration::from_secs(60),
        "the shop's mirror converges",
        || async {
            let (shop, catalogue) = (
                ids(stack.client.shop().await),
                ids(stack.client.catalogue().await),
            );
            testkit::seen((shop, catalogue), |(s, c)| s == c)
        },
    )
    .await;
    stack.stop().await;
}
