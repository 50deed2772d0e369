//! One sample of every resource the soak watches: each process's memory, descriptors and
//! threads (`/proc`), its pool's connections (`db_pool_connections` on `/metrics`), the
//! database's connections per user (the processlist), the tables purges keep bounded and
//! the ones that grow by design, the queues, and the disk used by the database, the broker
//! and the logs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sqlx::MySqlPool;

use super::verdict::{Kind, Point, Series};

/// A process to watch: its name, OS pid, how many times it was restarted, and its
/// `/metrics` when it has one.
pub struct Watched {
    pub name: &'static str,
    pub pid: Option<u32>,
    pub restarts: u32,
    pub metrics: Option<String>,
}

impl Watched {
    /// `kind`, or for the database server, whose threads and files follow the clients'
    /// connections, [`Kind::ServerPerConnection`].
    fn per_connection(&self, kind: Kind) -> Kind {
        if self.name == "mariadbd" {
            Kind::ServerPerConnection
        } else {
            kind
        }
    }
}

/// `(kB of VmRSS, threads)` of `pid`, from `/proc/PID/status`.
fn status(pid: u32) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("Threads:")?))
}

fn open_fds(pid: u32) -> Option<f64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as f64)
}

/// Bytes under `dir` (files only, not following links).
pub fn disk_use(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => disk_use(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// The value of `name{labels…}` in a Prometheus text page, summed over the series whose
/// labels contain every one of `labels` (`state="idle"`).
pub fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            continue;
        }
        if !labels.iter().all(|l| rest.contains(l)) {
            continue;
        }
        if let Some(v) = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// Where the sampler looks.
pub struct Sampler {
    /// root on the soak's own MariaDB.
    pub db: MySqlPool,
    pub admin_db: String,
    pub main_db: String,
    /// Database users, each process's: `(process, user)`.
    pub users: Vec<(&'static str, String)>,
    /// `(name shown, queue)`.
    pub queues: Vec<(&'static str, String)>,
    pub dirs: Vec<(&'static str, PathBuf, Kind)>,
    pub http: reqwest::Client,
}

/// Every series, by name, as samples come.
#[derive(Default)]
pub struct Record {
    pub series: BTreeMap<String, Series>,
    /// The last `/metrics` page of each process (for the purges' counters).
    pub last_metrics: BTreeMap<&'static str, String>,
}

impl Record {
    pub fn add(&mut self, name: String, kind: Kind, t: f64, v: f64, seg: u32) {
        self.series
            .entry(name.clone())
            .or_insert_with(|| Series {
                name,
                kind,
                points: Vec::new(),
            })
            .points
            .push(Point { t, v, seg });
    }
}

impl Sampler {
    /// A `COUNT(*)`, or `None` after 3 s (the database paused) or an error.
    async fn count(&self, sql: &str) -> Option<f64> {
        let q = sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.db);
        let n = tokio::time::timeout(std::time::Duration::from_secs(3), q)
            .await
            .ok()?
            .ok()?;
        Some(n as f64)
    }

    /// Takes one sample at `t` seconds into the run; `false` when the queues could not be
    /// read (no reader, or its connection is gone).
    pub async fn sample(
        &self,
        t: f64,
        procs: &[Watched],
        queues: Option<&testkit::QueueReader>,
        rec: &mut Record,
    ) -> bool {
        for p in procs {
            let Some(pid) = p.pid else { continue };
            if let Some((rss_kb, threads)) = status(pid) {
                rec.add(
                    format!("{} RSS (MB)", p.name),
                    Kind::Memory,
                    t,
                    rss_kb / 1024.0,
                    p.restarts,
                );
                rec.add(
                    format!("{} threads", p.name),
                    p.per_connection(Kind::Threads),
                    t,
                    threads,
                    p.restarts,
                );
            }
            if let Some(fds) = open_fds(pid) {
                rec.add(
                    format!("{} open files", p.name),
                    p.per_connection(Kind::Fds),
                    t,
                    fds,
                    p.restarts,
                );
            }
            let Some(url) = &p.metrics else { continue };
            let page = async { self.http.get(url).send().await?.text().await };
            let Ok(Ok(text)) = tokio::time::timeout(std::time::Duration::from_secs(2), page).await
            else {
                continue;
            };
            let open = ["state=\"idle\"", "state=\"in_use\""]
                .iter()
                .filter_map(|s| metric(&text, "db_pool_connections", &[s]))
                .sum::<f64>();
            rec.add(
                format!("{} pool connections", p.name),
                Kind::Connections,
                t,
                open,
                p.restarts,
            );
            rec.last_metrics.insert(p.name, text);
        }
        // Once the database does not answer (paused), the other counts wait for the next
        // sample.
        let mut db_answers = true;
        for (process, user) in &self.users {
            let sql = format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{user}'"
            );
            match self.count(&sql).await {
                Some(n) => rec.add(
                    format!("{process} database connections (processlist)"),
                    Kind::Connections,
                    t,
                    n,
                    0,
                ),
                None => {
                    db_answers = false;
                    break;
                }
            }
        }
        let (a, m) = (&self.admin_db, &self.main_db);
        let tables = [
            (format!("`{a}`.outbox"), Kind::Rows),
            (format!("`{m}`.outbox"), Kind::Rows),
            (format!("`{a}`.processed_messages"), Kind::Rows),
            (format!("`{m}`.processed_messages"), Kind::Rows),
            (format!("`{a}`.sessions"), Kind::Rows),
            (format!("`{a}`.admin_sessions"), Kind::Rows),
            (format!("`{a}_audit`.audit_log"), Kind::Rows),
            (format!("`{m}`.product_likes"), Kind::Data),
            (format!("`{a}`.products"), Kind::Data),
        ];
        for (table, kind) in tables.into_iter().filter(|_| db_answers) {
            if let Some(n) = self.count(&format!("SELECT COUNT(*) FROM {table}")).await {
                let short = table
                    .replace(a.as_str(), "admin")
                    .replace(m.as_str(), "main");
                rec.add(format!("rows {}", short.replace('`', "")), kind, t, n, 0);
            }
        }
        let mut queues_read = queues.is_some();
        for (name, q) in &self.queues {
            let Some(reader) = queues else { break };
            let depth = tokio::time::timeout(std::time::Duration::from_secs(2), reader.counts(q));
            match depth.await {
                Ok(Ok((ready, _))) => rec.add(
                    format!("queue {name} messages"),
                    Kind::Messages,
                    t,
                    f64::from(ready),
                    0,
                ),
                _ => queues_read = false,
            }
        }
        for (name, dir, kind) in &self.dirs {
            let mb = disk_use(dir) as f64 / 1_048_576.0;
            rec.add(format!("disk {name} (MB)"), *kind, t, mb, 0);
        }
        queues_read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sums_the_series_with_the_labels() {
        let page = "# HELP db_pool_connections x\n\
                    db_pool_connections{state=\"idle\"} 3\n\
                    db_pool_connections{state=\"in_use\"} 2\n\
                    db_pool_connections_other 9\n\
                    purges_total{table=\"outbox\",outcome=\"ok\"} 4\n";
        assert_eq!(
            metric(page, "db_pool_connections", &["state=\"idle\""]),
            Some(3.0)
        );
        assert_eq!(metric(page, "db_pool_connections", &[]), Some(5.0));
        assert_eq!(
            metric(
                page,
                "purges_total",
                &["table=\"outbox\"", "outcome=\"ok\""]
            ),
            Some(4.0)
        );
        assert_eq!(metric(page, "purges_total", &["table=\"audit\""]), None);
    }

    #[test]
    fn this_process_is_seen_in_proc() {
        let (rss, threads) = status(std::process::id()).unwrap();
        assert!(rss > 0.0 && threads >= 1.0);
        assert!(open_fds(std::process::id()).unwrap() >= 3.0);
        assert!(disk_use(Path::new(env!("CARGO_MANIFEST_DIR"))) > 0);
    }
}
