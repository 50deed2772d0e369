//! What clients that hang up (see [`crate::hangup`]) must not leave behind, checked against
//! the running [`ShopStack`] and MariaDB itself: pool connections still checked out,
//! transactions left open on idle connections, an outbox that does not drain, stale reads,
//! half-applied writes, a mirror that does not converge.
//!
//! Each check returns `Ok` with its figures for the test's summary line, or `Err` saying
//! what is wrong, so that a test can run them all and report every failure at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection as _, MySqlConnection};

use crate::{Proc, ShopClient, ShopStack, mysql_server_url};

pub type Check = Result<String, String>;

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

    async fn pairs(&mut self, sql: &str) -> Vec<(u64, u64)> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(sql).fetch_all(&mut self.conn).await.unwrap();
        rows.into_iter()
            .map(|(a, b)| (a as u64, b as u64))
            .collect()
    }
}

/// One series of a process's `/metrics`, e.g. `db_pool_connections{state="in_use"}`.
pub fn gauge(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// (in_use, idle, max) of a process's database pool.
pub async fn pool(stack: &ShopStack, p: Proc) -> (u64, u64, u64) {
    let m = stack.metrics(p).await;
    let g = |state: &str| {
        gauge(&m, &format!("db_pool_connections{{state=\"{state}\"}}")).unwrap_or(-1.0) as u64
    };
    (g("in_use"), g("idle"), g("max"))
}

fn db_of(stack: &ShopStack, p: Proc) -> &str {
    match p {
        Proc::AdminApi | Proc::AdminConsumer => &stack.admin_db.name,
        Proc::MainApi | Proc::MainConsumer => &stack.main_db.name,
    }
}

/// Every process's pool connections are back (`in_use` 0), and MariaDB agrees: on each
/// database, every connection is idle (`Sleep`) and there are as many as the two processes
/// on it (API and consumer) hold idle. The second comparison is only made while the gauges
/// hold still across the processlist read. Both are polled, up to `within` in all.
pub async fn pools_returned(
    stack: &ShopStack,
    inspector: &mut Inspector,
    within: Duration,
) -> Check {
    let mut failures = Vec::new();
    let deadline = Instant::now() + within;
    let mut in_use = Vec::new();
    loop {
        in_use.clear();
        for p in Proc::ALL {
            let (used, _, max) = pool(stack, p).await;
            if used > 0 {
                in_use.push(format!("{} {used} of {max}", p.binary()));
            }
        }
        if in_use.is_empty() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !in_use.is_empty() {
        failures.push(format!(
            "pool connections still checked out after {within:?} (db_pool_connections{{state=\"in_use\"}}): {}",
            in_use.join(", ")
        ));
    }
    let mut figures = Vec::new();
    for (db, procs) in [
        ("admin", [Proc::AdminApi, Proc::AdminConsumer]),
        ("main", [Proc::MainApi, Proc::MainConsumer]),
    ] {
        let name = db_of(stack, procs[0]).to_owned();
        // Within the same bound, but with a second at least for the gauges to hold still.
        let deadline = deadline.max(Instant::now() + Duration::from_secs(1));
        let verdict = loop {
            let before = [pool(stack, procs[0]).await, pool(stack, procs[1]).await];
            let commands = inspector.commands(&name).await;
            let after = [pool(stack, procs[0]).await, pool(stack, procs[1]).await];
            let idle = after[0].1 + after[1].1;
            let total: i64 = commands.values().sum();
            let sleeping = commands.get("Sleep").copied().unwrap_or(0);
            let summary = format!(
                "{db} db: MariaDB shows {total} connections ({commands:?}), the pools {idle} idle ({} {} + {} {}) and {} in use",
                procs[0].binary(),
                after[0].1,
                procs[1].binary(),
                after[1].1,
                after[0].0 + after[1].0
            );
            let stable = before == after;
            if stable && sleeping == total && total as u64 == idle {
                break Ok(format!("{db} {total}/{idle}"));
            }
            if Instant::now() >= deadline {
                break Err(summary);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        match verdict {
            Ok(f) => figures.push(f),
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        Ok(format!(
            "pools all back; connections MariaDB/pools idle: {}",
            figures.join(", ")
        ))
    } else {
        Err(failures.join("; "))
    }
}

/// Reads each list `times` times in a row (twice the pool size is enough), so that every
/// pooled connection of both APIs runs a statement: a connection left inside a transaction
/// that only began shows in `innodb_trx` once it has read something.
pub async fn read_on_every_connection(client: &ShopClient, times: usize) {
    for _ in 0..times {
        let _ = shop(client).await;
        let _ = catalogue(client).await;
    }
}

/// No transaction open on an idle connection of either database: a connection that went
/// back to its pool inside a transaction (or one leaked with it). Polls up to `within`, so
/// work in flight may end; passes on the first sample where neither database has one.
pub async fn no_idle_transactions(
    stack: &ShopStack,
    inspector: &mut Inspector,
    within: Duration,
) -> Check {
    let deadline = Instant::now() + within;
    loop {
        let mut open = Vec::new();
        for (db, name) in [
            ("admin", &stack.admin_db.name),
            ("main", &stack.main_db.name),
        ] {
            let trx = inspector.idle_transactions(name).await;
            if !trx.is_empty() {
                let mut line = format!("{db} db: {} open on idle connections:", trx.len());
                for t in trx.iter().take(8) {
                    let _ = write!(
                        line,
                        " [thread {} trx {}: open {} s, {} rows locked]",
                        t.thread, t.trx_id, t.open_secs, t.rows_locked
                    );
                }
                open.push(line);
            }
        }
        if open.is_empty() {
            return Ok("no transaction open on an idle connection".to_owned());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "transactions still open on idle connections after {within:?}: {}",
                open.join("; ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Both outboxes drain to zero within `within`.
pub async fn outbox_drained(
    stack: &ShopStack,
    inspector: &mut Inspector,
    within: Duration,
) -> Check {
    let start = Instant::now();
    loop {
        let admin = inspector.pending_outbox(&stack.admin_db.name).await;
        let main = inspector.pending_outbox(&stack.main_db.name).await;
        if admin == 0 && main == 0 {
            return Ok(format!(
                "outboxes drained in {:.1} s",
                start.elapsed().as_secs_f64()
            ));
        }
        if start.elapsed() >= within {
            return Err(format!(
                "outbox not drained after {within:?}: admin {admin} unpublished, main {main} unpublished"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each like committed whole or not at all, in the main database: for every product, its
/// `likes` equals its `product_likes` rows and its `product_liked` outbox rows.
pub async fn likes_whole(stack: &ShopStack, inspector: &mut Inspector) -> Check {
    let db = &stack.main_db.name;
    let counted: BTreeMap<u64, u64> = inspector
        .pairs(&format!(
            "SELECT CAST(id AS SIGNED), CAST(likes AS SIGNED) FROM `{db}`.products"
        ))
        .await
        .into_iter()
        .collect();
    let rows: HashMap<u64, u64> = inspector
        .pairs(&format!(
            "SELECT CAST(product_id AS SIGNED), COUNT(*) FROM `{db}`.product_likes GROUP BY product_id"
        ))
        .await
        .into_iter()
        .collect();
    let mut events: HashMap<u64, u64> = HashMap::new();
    for id in inspector.outbox_ids(db, "product_liked").await {
        *events.entry(id).or_default() += 1;
    }
    let ids: BTreeSet<u64> = counted
        .keys()
        .chain(rows.keys())
        .chain(events.keys())
        .copied()
        .collect();
    let mut wrong = Vec::new();
    for id in &ids {
        let c = counted.get(id).copied().unwrap_or(0);
        let r = rows.get(id).copied().unwrap_or(0);
        let e = events.get(id).copied().unwrap_or(0);
        if c != r || c != e {
            wrong.push(format!(
                "product {id}: likes {c}, product_likes rows {r}, product_liked events {e}"
            ));
        }
    }
    if wrong.is_empty() {
        Ok(format!(
            "{} likes over {} products, each with its row and event",
            counted.values().sum::<u64>(),
            counted.len()
        ))
    } else {
        Err(format!(
            "likes applied in part ({} products): {}",
            wrong.len(),
            wrong
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

/// Each product write committed whole or not at all, in the admin database: every product
/// has exactly one `product_created` event and a version of one plus its `product_updated`
/// events; every product created and gone has exactly one `product_deleted` event; no
/// `product_deleted` event names a product still there.
pub async fn catalogue_whole(stack: &ShopStack, inspector: &mut Inspector) -> Check {
    let db = &stack.admin_db.name;
    let products: BTreeMap<u64, u64> = inspector
        .pairs(&format!(
            "SELECT CAST(id AS SIGNED), CAST(version AS SIGNED) FROM `{db}`.products"
        ))
        .await
        .into_iter()
        .collect();
    let mut counts: BTreeMap<u64, [u64; 3]> = BTreeMap::new();
    for (i, kind) in ["product_created", "product_updated", "product_deleted"]
        .into_iter()
        .enumerate()
    {
        for id in inspector.outbox_ids(db, kind).await {
            counts.entry(id).or_default()[i] += 1;
        }
    }
    let mut wrong = Vec::new();
    let ids: BTreeSet<u64> = products.keys().chain(counts.keys()).copied().collect();
    for id in &ids {
        let [created, updated, deleted] = counts.get(id).copied().unwrap_or_default();
        match products.get(id) {
            Some(&version) if created != 1 || deleted != 0 || version != 1 + updated => {
                wrong.push(format!(
                    "product {id} (version {version}): {created} created, {updated} updated, {deleted} deleted events"
                ));
            }
            None if created != 1 || deleted != 1 => wrong.push(format!(
                "product {id} (gone): {created} created, {deleted} deleted events"
            )),
            _ => {}
        }
    }
    if wrong.is_empty() {
        let total = |i: usize| counts.values().map(|c| c[i]).sum::<u64>();
        Ok(format!(
            "{} products ({} created, {} updated, {} deleted), each with its events",
            products.len(),
            total(0),
            total(1),
            total(2)
        ))
    } else {
        Err(format!(
            "product writes applied in part ({}): {}",
            wrong.len(),
            wrong
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

async fn list(client: &ShopClient, url: &str) -> Result<Vec<Value>, String> {
    let res = client
        .http
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = res.status();
    if status != StatusCode::OK {
        return Err(format!("GET {url} answered {status}"));
    }
    res.json().await.map_err(|e| format!("GET {url}: {e}"))
}

pub async fn shop(client: &ShopClient) -> Result<Vec<Value>, String> {
    list(client, &format!("{}/flask/api/products", client.main)).await
}

pub async fn catalogue(client: &ShopClient) -> Result<Vec<Value>, String> {
    list(client, &format!("{}/api/products", client.admin)).await
}

/// The mirror converged to the catalogue within `within`: the same products with the same
/// titles and images, and the shop's like counts equal to the catalogue's.
pub async fn converged(client: &ShopClient, within: Duration) -> Check {
    let start = Instant::now();
    loop {
        let diff = match (catalogue(client).await, shop(client).await) {
            (Ok(c), Ok(s)) => {
                let key =
                    |p: &Value| json!([p["id"], p["title"], p["image"], p["likes"]]).to_string();
                let c: BTreeSet<String> = c.iter().map(key).collect();
                let s: BTreeSet<String> = s.iter().map(key).collect();
                if c == s {
                    return Ok(format!(
                        "mirror equals the catalogue ({} products) after {:.1} s",
                        c.len(),
                        start.elapsed().as_secs_f64()
                    ));
                }
                let only_c: Vec<_> = c.difference(&s).take(5).cloned().collect();
                let only_s: Vec<_> = s.difference(&c).take(5).cloned().collect();
                format!(
                    "[id, title, image, likes] only in the catalogue: {only_c:?}, only in the shop: {only_s:?}"
                )
            }
            (c, s) => format!("{:?} / {:?}", c.err(), s.err()),
        };
        if start.elapsed() >= within {
            return Err(format!("mirror not converged after {within:?}: {diff}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn answer(req: reqwest::RequestBuilder, what: &str) -> Result<(StatusCode, Value), String> {
    let res = req
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let status = res.status();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// Polls `check` until it holds or `within` passed; the time it took.
async fn within_time<F, Fut>(within: Duration, what: &str, mut check: F) -> Result<Duration, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= within {
            return Err(format!("{what}: not within {within:?}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes made now are seen, and every read returns the latest data (a pooled connection
/// stuck inside an old transaction answers from its old snapshot): creates a product and
/// waits (up to `within`) until the shop shows it; likes it and waits until the catalogue
/// counts the like; then `reads` reads of each list must all contain it; then renames it,
/// waits until the shop shows the new title, and `reads` reads of each list must all show
/// the new title.
pub async fn fresh_reads(client: &ShopClient, reads: usize, within: Duration) -> Check {
    let create = client
        .http
        .post(format!("{}/api/products", client.admin))
        .json(&json!({"title": "Fresh", "image": "/img/fresh.png"}));
    let (status, created) = answer(create, "create").await?;
    if status != StatusCode::CREATED {
        return Err(format!(
            "a create after the burst answered {status}: {created}"
        ));
    }
    let id = created["id"].as_u64().ok_or("create answered no id")?;
    let has =
        |list: &[Value], title: &str| list.iter().any(|p| p["id"] == id && p["title"] == title);
    let seen = within_time(
        within,
        &format!("product {id} created after the burst in the shop"),
        || async { shop(client).await.is_ok_and(|l| has(&l, "Fresh")) },
    )
    .await?;
    let like = client
        .http
        .post(format!("{}/flask/api/products/{id}/like", client.main));
    let (status, body) = answer(like, "like").await?;
    if status != StatusCode::OK {
        return Err(format!("a like after the burst answered {status}: {body}"));
    }
    let liked = within_time(
        within,
        &format!("the like of product {id} in the catalogue"),
        || async {
            catalogue(client)
                .await
                .is_ok_and(|l| l.iter().any(|p| p["id"] == id && p["likes"] == 1))
        },
    )
    .await?;

    let mut stale = Vec::new();
    let mut read_all = async |title: &str| -> Result<(), String> {
        for (name, url) in [
            ("shop", format!("{}/flask/api/products", client.main)),
            ("catalogue", format!("{}/api/products", client.admin)),
        ] {
            let mut old = 0;
            for _ in 0..reads {
                if !has(&list(client, &url).await?, title) {
                    old += 1;
                }
            }
            if old > 0 {
                stale.push(format!(
                    "{old} of {reads} {name} reads without product {id} titled {title:?}"
                ));
            }
        }
        Ok(())
    };
    read_all("Fresh").await?;
    let rename = client
        .http
        .put(format!("{}/api/products/{id}", client.admin))
        .json(&json!({"title": "Fresher", "image": "/img/fresh.png"}));
    let (status, body) = answer(rename, "update").await?;
    if status != StatusCode::ACCEPTED {
        return Err(format!(
            "an update after the burst answered {status}: {body}"
        ));
    }
    within_time(
        within,
        &format!("product {id} renamed in the shop"),
        || async { shop(client).await.is_ok_and(|l| has(&l, "Fresher")) },
    )
    .await?;
    read_all("Fresher").await?;
    if stale.is_empty() {
        Ok(format!(
            "new product mirrored in {:.2} s, its like in the catalogue in {:.2} s, 4 x {reads} reads all fresh",
            seen.as_secs_f64(),
            liked.as_secs_f64()
        ))
    } else {
        Err(format!("stale reads: {}", stale.join("; ")))
    }
}

/// Every check of what traffic left behind, in the order that makes each meaningful: the
/// outboxes drain and the mirror catches up (within `catch_up`: hung-up writes ran to their
/// end, so the consumers may have a backlog), then no pool connection is checked out and no
/// transaction is open on an idle one, then new writes are seen by every read, then every
/// like and product write is whole in the databases.
pub async fn after_traffic(
    stack: &ShopStack,
    inspector: &mut Inspector,
    catch_up: Duration,
) -> Vec<(&'static str, Check)> {
    let client = &stack.client;
    let mut checks = vec![(
        "outbox drains",
        outbox_drained(stack, inspector, Duration::from_secs(2)).await,
    )];
    checks.push(("converged", converged(client, catch_up).await));
    checks.push((
        "pool connections back",
        pools_returned(stack, inspector, Duration::from_secs(5)).await,
    ));
    read_on_every_connection(client, 25).await;
    checks.push((
        "no open transaction",
        no_idle_transactions(stack, inspector, Duration::from_secs(3)).await,
    ));
    checks.push((
        "fresh reads",
        fresh_reads(client, 200, Duration::from_secs(5)).await,
    ));
    checks.push(("likes whole", likes_whole(stack, inspector).await));
    checks.push((
        "product writes whole",
        catalogue_whole(stack, inspector).await,
    ));
    checks
}
