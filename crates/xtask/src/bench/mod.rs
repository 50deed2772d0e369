//! The benchmark's verdicts and table. `scripts/bench.sh` measures (the stack, wrk, the load
//! client, the backlog, the overload, goose, the big catalogue, memory) and writes what it
//! measured to a directory: `measurements`, one `key=value` a line, and `goose.txt`, goose's
//! report. This reads them, compares each figure with its target and the ceiling measured in
//! the same run, and prints the markdown table (docs/performance.md): each row's work, the
//! figure, the target, the ceiling, the ratio to it, met or missed; then goose's per-request
//! table and how long the run took.

mod figures;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use figures::{field, int, num, number, whole};
use goose::goose_table;
use rows::rows;

/// A run's measurements.
struct Measurements {
    values: HashMap<String, String>,
    goose: String,
}

impl Measurements {
    fn read(dir: &Path) -> Result<Self> {
        let file = dir.join("measurements");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let values = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let goose = std::fs::read_to_string(dir.join("goose.txt")).unwrap_or_default();
        Ok(Measurements { values, goose })
    }

    /// A measurement; empty when the run did not record it.
    fn get(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    /// A field of a recorded line.
    fn field(&self, key: &str, name: &str) -> String {
        field(self.get(key), name)
    }
}

/// A wrk run as the bench records it: `rps=… p50_ms=… p99_ms=… bad=…`.
struct Wrk {
    rps: String,
    p50: String,
    p99: String,
    bad: String,
}

impl Wrk {
    fn of(m: &Measurements, key: &str) -> Self {
        Wrk {
            rps: m.field(key, "rps"),
            p50: m.field(key, "p50_ms"),
            p99: m.field(key, "p99_ms"),
            bad: m.field(key, "bad"),
        }
    }

    /// ", N errors" after a run that had any.
    fn errors(&self) -> String {
        if self.bad == "0" {
            String::new()
        } else {
            format!(", {} errors", self.bad)
        }
    }

    /// "N req/s, p50 … ms, p99 … ms[, N errors]".
    fn measured(&self) -> String {
        format!(
            "{} req/s, p50 {} ms, p99 {} ms{}",
            num(&self.rps),
            self.p50,
            self.p99,
            self.errors()
        )
    }
}

/// A like run (http_load's line), with whether the counts grew by exactly its 200s.
struct Likes {
    rate: String,
    p50: String,
    p99: String,
    bad: i64,
    exact: String,
    /// main-api's mean likes per group commit in the run (empty when not measured).
    batch_mean: String,
}

impl Likes {
    fn of(m: &Measurements, key: &str) -> Self {
        Likes {
            rate: m.field(key, "ok_rate"),
            p50: m.field(key, "p50_ms"),
            p99: m.field(key, "p99_ms"),
            bad: int(&m.field(key, "sent")) - int(&m.field(key, "s200")),
            exact: m.get(&format!("{key}.exact")).to_owned(),
            batch_mean: m.field(key, "batch_mean"),
        }
    }

    fn measured(&self) -> String {
        format!(
            "{}/s, p50 {} ms, p99 {} ms, non-200 {}, count exact: {}",
            num(&self.rate),
            self.p50,
            self.p99,
            self.bad,
            self.exact
        )
    }
}

mod goose;
mod live;
mod memory;
mod rows;
mod search;
#[cfg(test)]
mod tests;

/// The whole report: a heading with the run's machine, the table, goose's table, the times.
pub fn table(dir: &Path) -> Result<String> {
    let m = Measurements::read(dir)?;
    let mut out = String::new();
    let mem_gib = whole(number(m.get("run.mem_total_kb")) / 1_048_576.0);
    let seconds = m.get("bench_seconds");
    writeln!(out)?;
    writeln!(
        out,
        "## Benchmark, {}, {} cores ({}), {mem_gib} GiB",
        m.get("run.date"),
        m.get("run.cores"),
        m.get("run.cpu")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Release build; local MariaDB {}{}, RabbitMQ and nginx {}; \
         every process, the load generators and the ceilings sharing the cores (load average \
         at the end: {}). wrk -t2 -c32 for {seconds} s per list row; likes with \
         examples/http_load (32 connections, {seconds} s); like limits off.",
        m.get("run.mariadb"),
        // Runs before it was recorded do not say.
        match m.get("run.buffer_pool_mb") {
            "" => String::new(),
            mb => format!(" (InnoDB buffer pool {mb} MB)"),
        },
        m.get("run.nginx"),
        m.get("run.loadavg")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| work | measured | target | ceiling (same run) | ratio to ceiling | verdict |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- |")?;
    for r in rows(&m) {
        writeln!(out, "| {} |", r.join(" | "))?;
    }
    writeln!(out)?;
    if let Some(memory) = memory::table(&m) {
        writeln!(out, "Resident memory of each process through the run:")?;
        writeln!(out)?;
        write!(out, "{memory}")?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "Mixed workload (goose, crates/loadgen), per request type:"
    )?;
    writeln!(out)?;
    writeln!(out, "```")?;
    writeln!(out, "{}", goose_table(&m.goose))?;
    writeln!(out, "```")?;
    writeln!(out)?;
    writeln!(
        out,
        "Took {} s ({} s building, {} s starting the stack, the rest measuring).",
        m.get("run.total_s"),
        m.get("run.build_s"),
        m.get("run.stack_s")
    )?;
    Ok(out)
}
