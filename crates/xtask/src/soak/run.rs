//! The soak's run: nodes, stack, load, faults and samples side by side, then the drain and
//! the verdict.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlPoolOptions;
use testkit::{MariaDbNode, Overrides, Proc, QueueReader, RabbitNode, ShopStack};
use tokio::sync::Mutex;

use super::counts::{Rows, Tally, compare};
use super::faults::{Fault, Paused, schedule};
use super::sample::{Record, Sampler, Watched};
use super::verdict::Kind;
use super::{Options, report};
use crate::report::log;

/// Products the shoppers like (loadgen's `PRODUCTS`), created before the load.
const PRODUCTS: u64 = 100;

/// A fault as it happened: seconds into the run it began and it had recovered.
pub struct Happened {
    pub fault: Fault,
    pub began: f64,
    pub recovered: Option<f64>,
}

pub struct Shared {
    pub stack: Mutex<ShopStack>,
    pub rabbit: RabbitNode,
    pub mariadb_pid: u32,
    pub db: MySqlPool,
    pub started: Instant,
}

impl Shared {
    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Outbox rows not yet published, both services.
    async fn pending(&self, stack: &ShopStack) -> Option<i64> {
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM `{}`.outbox WHERE published_at IS NULL) + \
                    (SELECT COUNT(*) FROM `{}`.outbox WHERE published_at IS NULL)",
            stack.admin_db.name, stack.main_db.name
        );
        let q = sqlx::query_scalar::<_, i64>(&sql).fetch_one(&self.db);
        tokio::time::timeout(Duration::from_secs(3), q)
            .await
            .ok()?
            .ok()
    }

    /// Recovered: every process healthy, the outboxes and queues back under 100.
    async fn recovered(&self) -> bool {
        let stack = self.stack.lock().await;
        for p in Proc::ALL {
            let svc = stack.svc(p);
            let ok = svc.http.get(svc.url(p.health_path())).send().await;
            if !ok.is_ok_and(|r| r.status().is_success()) {
                return false;
            }
        }
        if self.pending(&stack).await.is_none_or(|n| n >= 100) {
            return false;
        }
        let Some(reader) = QueueReader::try_connect_to(&self.rabbit.amqp_url()).await else {
            return false;
        };
        for q in [&stack.main_queue, &stack.admin_queue] {
            if reader.counts(q).await.map_or(true, |(n, _)| n >= 100) {
                return false;
            }
        }
        true
    }

    async fn inflict(&self, fault: Fault) {
        match fault {
            Fault::KillConsumer(p) => {
                let mut stack = self.stack.lock().await;
                stack.kill(p).await;
                stack.respawn(p).await;
            }
            Fault::BrokerRestart => {
                tokio::task::block_in_place(|| self.rabbit.stop());
                self.rabbit.boot().await;
            }
            Fault::DatabasePause(d) => {
                let paused = Paused::new(self.mariadb_pid);
                tokio::time::sleep(d).await;
                drop(paused);
            }
        }
    }

    /// Runs each fault at its time; returns when they are all over.
    async fn faults(self: Arc<Self>, plan: Vec<(Duration, Fault)>) -> Vec<Happened> {
        let mut done = Vec::new();
        for (at, fault) in plan {
            tokio::time::sleep_until((self.started + at).into()).await;
            let began = self.now();
            log(format!("soak: {:.0} s: {fault}", began));
            self.inflict(fault).await;
            let deadline = Instant::now() + Duration::from_secs(180);
            let mut recovered = None;
            while Instant::now() < deadline {
                if self.recovered().await {
                    recovered = Some(self.now());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            log(format!(
                "soak: recovered {}",
                recovered.map_or("never (180 s)".to_owned(), |r| format!(
                    "after {:.1} s",
                    r - began
                ))
            ));
            done.push(Happened {
                fault,
                began,
                recovered,
            });
        }
        done
    }
}

fn overrides(o: &Options) -> Overrides {
    let env = vec![
        ("PURGE_INTERVAL_SECS", o.purge_interval().to_string()),
        ("OUTBOX_RETENTION_HOURS", "0".to_owned()),
        ("PROCESSED_RETENTION_SECS", o.retention().to_string()),
        ("AUDIT_RETENTION_SECS", o.retention().to_string()),
    ];
    Proc::ALL.into_iter().map(|p| (p, env.clone())).collect()
}

/// The processes to sample, each with its pid's number among those seen (its segment).
async fn watched(shared: &Shared, pids: &mut HashMap<&'static str, Vec<u32>>) -> Vec<Watched> {
    let stack = shared.stack.lock().await;
    let mut list: Vec<(&'static str, Option<u32>, Option<String>)> = Proc::ALL
        .into_iter()
        .map(|p| {
            let svc = stack.svc(p);
            (p.binary(), svc.child.id(), Some(svc.url("/metrics")))
        })
        .collect();
    list.push(("mariadbd", Some(shared.mariadb_pid), None));
    list.push(("rabbitmq", shared.rabbit.os_pid(), None));
    list.into_iter()
        .map(|(name, pid, metrics)| {
            let seen = pids.entry(name).or_default();
            if let Some(pid) = pid
                && !seen.contains(&pid)
            {
                seen.push(pid);
            }
            let restarts = pid
                .and_then(|p| seen.iter().position(|s| *s == p))
                .unwrap_or(0);
            Watched {
                name,
                pid,
                restarts: restarts as u32,
                metrics,
            }
        })
        .collect()
}

pub async fn run(o: Options) -> Result<bool> {
    let began = Instant::now();
    std::fs::create_dir_all(&o.out)?;
    let total = o.total();
    log("soak: starting its own MariaDB and RabbitMQ node");
    let mariadb = MariaDbNode::start(None).await;
    let root = format!("{}/mysql", mariadb.root_url());
    testkit::db::use_server(&root);
    let rabbit = RabbitNode::start().await;
    log("soak: starting the four processes (SHOP_BIN_DIR's binaries)");
    let stack = ShopStack::prepare(&rabbit.amqp_url(), overrides(&o))
        .await
        .log_to(&o.out.join("logs"))
        .launch()
        .await;
    for i in 1..=PRODUCTS {
        stack
            .client
            .create(&format!("Soak product {i}"), "/img/soak.png")
            .await;
    }
    let db = MySqlPoolOptions::new()
        .max_connections(2)
        .connect(&root)
        .await?;
    let sampler = Sampler {
        db: db.clone(),
        admin_db: stack.admin_db.name.clone(),
        main_db: stack.main_db.name.clone(),
        users: vec![
            ("admin-api", stack.admin_users.api.name.clone()),
            ("admin-consumer", stack.admin_users.consumer.name.clone()),
            ("main-api", stack.main_users.api.name.clone()),
            ("main-consumer", stack.main_users.consumer.name.clone()),
        ],
        queues: vec![
            ("main", stack.main_queue.clone()),
            ("admin", stack.admin_queue.clone()),
            (
                "main.dead-letter",
                format!("{}.dead-letter", stack.main_queue),
            ),
            (
                "admin.dead-letter",
                format!("{}.dead-letter", stack.admin_queue),
            ),
        ],
        dirs: vec![
            ("MariaDB", mariadb.dir().to_owned(), Kind::Data),
            ("RabbitMQ", rabbit.dir().to_owned(), Kind::Disk),
            ("process logs", o.out.join("logs"), Kind::Data),
        ],
        http: reqwest::Client::new(),
    };
    let tally_path = std::path::absolute(o.out.join("tally.json"))?;
    let _ = std::fs::remove_file(&tally_path);
    let goose_out = std::fs::File::create(o.out.join("goose.txt"))?;
    let mut loadgen = tokio::process::Command::new(&o.loadgen)
        .args(["--host", &stack.svc(Proc::MainApi).base_url])
        .args([
            "--users",
            &o.users.to_string(),
            "--increase-rate",
            &o.users.to_string(),
        ])
        .args(["--run-time", &format!("{}s", total.as_secs())])
        .args([
            "--throttle-requests",
            &o.rate.to_string(),
            "--no-reset-metrics",
            "--quiet",
        ])
        .env("ADMIN_HOST", &stack.svc(Proc::AdminApi).base_url)
        .env(
            "ADMIN_TOKEN",
            stack.client.token.clone().unwrap_or_default(),
        )
        .env("PRODUCTS", PRODUCTS.to_string())
        .env("LOADGEN_TALLY", &tally_path)
        .stdout(goose_out.try_clone()?)
        .stderr(goose_out)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", o.loadgen.display()))?;
    log(format!(
        "soak: {} min of load ({} req/s, {} users), sampling every {:.1} s",
        o.minutes,
        o.rate,
        o.users,
        o.sample_every().as_secs_f64()
    ));
    let shared = Arc::new(Shared {
        stack: Mutex::new(stack),
        rabbit,
        mariadb_pid: mariadb.pid(),
        db,
        started: Instant::now(),
    });
    let faults = tokio::spawn(shared.clone().faults(schedule(total)));
    let mut rec = Record::default();
    let mut pids = HashMap::new();
    let mut purges = report::Purges::default();
    let mut reader: Option<QueueReader> = None;
    while shared.started.elapsed() < total {
        let t = shared.now();
        if reader.is_none() {
            reader = QueueReader::try_connect_to(&shared.rabbit.amqp_url()).await;
        }
        let procs = watched(&shared, &mut pids).await;
        if !sampler.sample(t, &procs, reader.as_ref(), &mut rec).await {
            // The broker went away: connect again at the next sample.
            reader = None;
        }
        purges.update(t, &rec.last_metrics);
        tokio::time::sleep(o.sample_every()).await;
    }
    let end = shared.now();
    log("soak: load over; waiting for goose and the faults to finish");
    if tokio::time::timeout(Duration::from_secs(90), loadgen.wait())
        .await
        .is_err()
    {
        let _ = loadgen.kill().await;
    }
    let happened = faults.await?;
    let tally: Tally = std::fs::read(&tally_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .context("loadgen wrote no tally")?;
    log("soak: waiting for the pipeline to drain (at most 180 s)");
    let drain = Instant::now();
    let stack = shared.stack.lock().await;
    let (admin, main) = (stack.admin_db.name.clone(), stack.main_db.name.clone());
    let counts = loop {
        let rows = Rows::read(&shared.db, &admin, &main).await?;
        let v = compare(&tally, &rows);
        let idle = shared.pending(&stack).await == Some(0);
        if (v.converged() && idle) || drain.elapsed() > Duration::from_secs(180) {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let drained = drain.elapsed();
    drop(stack);
    let shared = Arc::into_inner(shared).context("the fault task still holds the stack")?;
    let stopped = shared
        .stack
        .into_inner()
        .stop_within(Duration::from_secs(20))
        .await;
    let report = report::Report {
        o: &o,
        end,
        rec: &rec,
        happened: &happened,
        purges: &purges,
        tally: &tally,
        counts: &counts,
        drained,
        stopped: &stopped,
        took: began.elapsed(),
    };
    let (text, ok) = report.render();
    print!("{text}");
    std::fs::write(o.out.join("table.md"), &text)?;
    report::write_samples(&o.out.join("samples.csv"), &rec)?;
    drop(shared.rabbit);
    drop(mariadb);
    Ok(ok)
}
