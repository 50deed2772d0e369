//! Pool connections all back, and none left inside a transaction.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::{Check, Inspector, catalogue, shop};
use crate::{Proc, ShopClient, ShopStack};

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

/// (in_use, idle, max) of a process's database pool, summed over its replicas when it has
/// more than one.
pub async fn pool(stack: &ShopStack, p: Proc) -> (u64, u64, u64) {
    let mut sum = (0, 0, 0);
    for m in stack.metrics_all(p).await {
        let g = |state: &str| {
            gauge(&m, &format!("db_pool_connections{{state=\"{state}\"}}")).unwrap_or(-1.0) as u64
        };
        sum = (sum.0 + g("in_use"), sum.1 + g("idle"), sum.2 + g("max"));
    }
    sum
}

/// The database connections a process holds outside its pool: the outbox relay's leader
/// lock connection (`outbox_relay_lock_connection`, APIs only), summed over its replicas.
pub async fn outside_pool(stack: &ShopStack, p: Proc) -> u64 {
    let mut sum = 0;
    for m in stack.metrics_all(p).await {
        sum += gauge(&m, "outbox_relay_lock_connection").unwrap_or(0.0) as u64;
    }
    sum
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
            // The API relay's lock connection sleeps between its questions like the pool's.
            let lock = outside_pool(stack, procs[0]).await;
            let total: i64 = commands.values().sum();
            let sleeping = commands.get("Sleep").copied().unwrap_or(0);
            let summary = format!(
                "{db} db: MariaDB shows {total} connections ({commands:?}), the pools {idle} idle ({} {} + {} {}) and {} in use, and {lock} relay lock connection(s)",
                procs[0].binary(),
                after[0].1,
                procs[1].binary(),
                after[1].1,
                after[0].0 + after[1].0
            );
            let stable = before == after;
            // Only a lock connection may be caught asking (each asks every poll interval).
            if stable && total as u64 == idle + lock && sleeping + lock as i64 >= total {
                break Ok(format!("{db} {total}/{idle}+{lock}"));
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
