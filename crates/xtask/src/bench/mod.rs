//! The benchmark's verdicts and table. `scripts/bench.sh` measures (the stack, wrk, the load
//! client, the backlog, the overload, goose, the big catalogue, memory) and writes what it
//! measured to a directory: `measurements`, one `key=value` a line, and `goose.txt`, goose's
//! report. This reads them, compares each figure with its target and the ceiling measured in
//! the same run, and prints the markdown table (README "Performance"): each row's work, the
//! figure, the target, the ceiling, the ratio to it, met or missed; then goose's per-request
//! table and how long the run took.

mod figures;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use figures::{field, ge, int, le, num, number, ratio, share, verdict, whole};

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
}

impl Likes {
    fn of(m: &Measurements, key: &str) -> Self {
        Likes {
            rate: m.field(key, "ok_rate"),
            p50: m.field(key, "p50_ms"),
            p99: m.field(key, "p99_ms"),
            bad: int(&m.field(key, "sent")) - int(&m.field(key, "s200")),
            exact: m.get(&format!("{key}.exact")).to_owned(),
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

/// The table's rows: work, measured, target, ceiling, ratio, verdict.
type Row = [String; 6];

fn row(
    work: String,
    measured: String,
    target: &str,
    ceiling: String,
    ratio: String,
    verdict: &str,
) -> Row {
    [
        work,
        measured,
        target.to_owned(),
        ceiling,
        ratio,
        verdict.to_owned(),
    ]
}

fn dash() -> String {
    "—".to_owned()
}

/// The two lists: (key, request).
const LISTS: [(&str, &str); 2] = [
    ("shop", "GET /flask/api/products"),
    ("catalogue", "GET /api/products"),
];

fn rows(m: &Measurements) -> Vec<Row> {
    let mut rows = Vec::new();

    // Ceilings.
    let ceil_http = Wrk::of(m, "ceiling.http");
    rows.push(row(
        format!(
            "ceiling: the list body ({} B) from memory, minimal axum server",
            m.get("body_bytes")
        ),
        ceil_http.measured(),
        "—",
        dash(),
        dash(),
        "—",
    ));
    let ceil_static = Wrk::of(m, "ceiling.static");
    rows.push(row(
        "ceiling: the same bytes as a static file, nginx (the shop's nginx frame)".to_owned(),
        ceil_static.measured(),
        "—",
        dash(),
        dash(),
        "—",
    ));
    // db_commit_rate's "commits/s N (…)": its second word.
    let ceil_db = whole(number(
        m.get("ceiling.db")
            .split_whitespace()
            .nth(1)
            .unwrap_or_default(),
    ));
    rows.push(row(
        "ceiling: MariaDB single-row autocommit INSERTs, 16 connections".to_owned(),
        format!("{} commits/s", num(&ceil_db)),
        "—",
        dash(),
        dash(),
        "—",
    ));

    // The lists, 100 products, straight to the APIs and through nginx.
    for (key, name) in LISTS {
        let w = Wrk::of(m, &format!("list.{key}"));
        rows.push(row(
            format!("{name}, 100 products, 32 connections"),
            w.measured(),
            "≥ 65,000 req/s, p99 ≤ 5 ms",
            format!("axum {} req/s", num(&ceil_http.rps)),
            ratio(&w.rps, &ceil_http.rps),
            verdict(ge(&w.rps, "65000") && le(&w.p99, "5") && w.bad == "0"),
        ));
    }
    for (key, name) in LISTS {
        let w = Wrk::of(m, &format!("list.{key}.nginx"));
        let half = (int(&ceil_static.rps) / 2).to_string();
        rows.push(row(
            format!("{name} through nginx"),
            w.measured(),
            "≥ 50 % of nginx's static file",
            format!("nginx static {} req/s", num(&ceil_static.rps)),
            ratio(&w.rps, &ceil_static.rps),
            verdict(ge(&w.rps, &half) && w.bad == "0"),
        ));
    }

    // Likes.
    let spread = Likes::of(m, "likes.spread");
    rows.push(row(
        "likes, a new shopper each, over 100 products, 32 connections".to_owned(),
        spread.measured(),
        "≥ 8,000/s, p99 ≤ 20 ms",
        format!("MariaDB {} commits/s", num(&ceil_db)),
        ratio(&spread.rate, &ceil_db),
        verdict(
            ge(&spread.rate, "8000")
                && le(&spread.p99, "20")
                && spread.bad == 0
                && spread.exact == "yes",
        ),
    ));
    let viral = Likes::of(m, "likes.viral");
    let half = (int(&spread.rate) / 2).to_string();
    rows.push(row(
        "likes, a new shopper each, all on one product (viral), 32 connections".to_owned(),
        viral.measured(),
        "≥ 50 % of the spread figure, no error, count exact",
        format!("spread {}/s", num(&spread.rate)),
        ratio(&viral.rate, &spread.rate),
        verdict(ge(&viral.rate, &half) && viral.bad == 0 && viral.exact == "yes"),
    ));

    // The backlog.
    let events = m.get("backlog.events");
    let consumed = m.get("backlog.consumed");
    let drain_s = m.get("backlog.drain_s");
    let exact = m.get("backlog.exact");
    let rate = whole(number(consumed) / number(drain_s));
    rows.push(row(
        format!(
            "a backlog of {} like events drained by one admin-consumer",
            num(events)
        ),
        format!(
            "{} events/s ({} in {drain_s} s, from the consumer's start), exactly once: {exact}",
            num(&rate),
            num(consumed)
        ),
        "≥ 10,000 events/s, exactly once",
        format!("MariaDB {} commits/s", num(&ceil_db)),
        ratio(&rate, &ceil_db),
        verdict(ge(&rate, "10000") && exact == "yes" && m.get("backlog.applied") == events),
    ));

    // Propagation.
    for (key, work) in [
        (
            "propagation.idle",
            "admin create → listed by the shop, idle",
        ),
        (
            "propagation.loaded",
            "admin create → listed by the shop, while wrk loads the shop list (32 connections)",
        ),
    ] {
        let (p50, p99) = (m.field(key, "p50_ms"), m.field(key, "p99_ms"));
        rows.push(row(
            work.to_owned(),
            format!("p50 {p50} ms, p99 {p99} ms (n={})", m.field(key, "n")),
            "p50 ≤ 5 ms, p99 ≤ 15 ms",
            dash(),
            dash(),
            verdict(
                le(&p50, "5") && le(&p99, "15") && m.field(key, "not_listed_within_10s") == "0",
            ),
        ));
    }

    rows.push(overload(m));

    // The mixed workload.
    rows.push(row(
        "mixed workload (goose, 50 users: browsers, returning and new shoppers, an admin), \
         through nginx, 20 s"
            .to_owned(),
        mixed(&goose_table(&m.goose)).unwrap_or_else(|| "see the goose table below".to_owned()),
        "—",
        dash(),
        dash(),
        "—",
    ));

    // 100,000 more products.
    let products = m.get("big.products");
    let page_query = m.get("big.page_query");
    for (key, name) in LISTS {
        let full = Wrk::of(m, &format!("big.{key}.full"));
        rows.push(row(
            format!(
                "{name}, {} products (full list, {} B), 8 connections",
                num(products),
                num(m.get("big.bytes"))
            ),
            full.measured(),
            "usable",
            dash(),
            dash(),
            "—",
        ));
        let page = Wrk::of(m, &format!("big.{key}.page"));
        let page_n = m.get(&format!("big.{key}.page_n"));
        let paged = if page_n == "100" {
            "a page of 100".to_owned()
        } else {
            format!("paging not offered: answered {page_n} products")
        };
        rows.push(row(
            format!(
                "{name}?{page_query}, {} products, 32 connections",
                num(products)
            ),
            format!(
                "{} req/s, p50 {} ms, p99 {} ms ({paged})",
                num(&page.rps),
                page.p50,
                page.p99
            ),
            "usable (paged)",
            dash(),
            dash(),
            verdict(page_n == "100"),
        ));
    }

    rows.push(memory(m));
    rows
}

fn overload(m: &Measurements) -> Row {
    let like = m.get("overload.like");
    let list = m.get("overload.list");
    let sum = |k: &str| int(&field(like, k)) + int(&field(list, k));
    let over_500 = sum("s500");
    let no_answer = sum("noanswer");
    let no_retry = sum("s503_no_retry_after");
    let (a, b) = (field(like, "p99_ms"), field(list, "p99_ms"));
    let p99 = if number(&a) > number(&b) { a } else { b };
    let exact = m.get("overload.exact");
    let recovered = m.get("overload.recovered");
    // "CODE SECONDS" of curl: the seconds.
    let secs = |k: &str| {
        let t = m.get(k);
        t.split_once(' ').map_or(t, |(_, s)| s).to_owned()
    };
    let (like_s, list_s) = (secs("overload.like_t"), secs("overload.list_t"));
    let in_use = m.get("overload.in_use");
    let open_trx = m.get("overload.open_trx");
    row(
        "overload: 2,000 connections liking one product + 200 reading the list, 10 s".to_owned(),
        format!(
            "likes: {} answered, 200 {}, 503 {}, 429 {}, 500 {}, other {}, p99 {} ms; list: {} \
             answered, 200 {}, 503 {}, p99 {} ms; no answer {no_answer}; 503 without \
             Retry-After {no_retry}; accepted likes counted exactly: {exact}; recovered: \
             {recovered} (like {like_s} s, list {list_s} s), pool connections in use after: \
             {in_use}, open transactions: {open_trx}",
            num(&field(like, "answered")),
            share(like, "s200"),
            share(like, "s503"),
            share(like, "s429"),
            field(like, "s500"),
            field(like, "other"),
            field(like, "p99_ms"),
            num(&field(list, "answered")),
            share(list, "s200"),
            share(list, "s503"),
            field(list, "p99_ms"),
        ),
        "no 500; quick answers, p99 ≤ 1 s (a 503 + Retry-After rather than a queue); accepted \
         likes exact; recovers by itself",
        dash(),
        dash(),
        verdict(
            over_500 == 0
                && le(&p99, "1000")
                && no_retry == 0
                && exact == "yes"
                && recovered == "yes"
                && in_use == "0"
                && open_trx == "0",
        ),
    )
}

/// The four processes' resident memory (kB), summed, in MB.
fn memory(m: &Measurements) -> Row {
    let (mut rss_sum, mut hwm_sum, mut detail) = (0, 0, Vec::new());
    for p in ["admin-api", "admin-consumer", "main-api", "main-consumer"] {
        let key = format!("memory.{p}");
        let (rss, hwm) = (int(&m.field(&key, "rss_kb")), int(&m.field(&key, "hwm_kb")));
        rss_sum += rss;
        hwm_sum += hwm;
        detail.push(format!("{p} {} MB (peak {} MB)", rss / 1024, hwm / 1024));
    }
    row(
        "resident memory, the four processes together, at the end of the whole benchmark"
            .to_owned(),
        format!(
            "{} MB now, {} MB peak ({})",
            rss_sum / 1024,
            hwm_sum / 1024,
            detail.join(", ")
        ),
        "≤ 60 MB",
        dash(),
        dash(),
        verdict(rss_sum / 1024 <= 60),
    )
}

/// goose's per-request section only (its error summary lists the returning shoppers' 400s,
/// which the workload counts as successes); its last 60 lines when it has none.
fn goose_table(goose: &str) -> String {
    let mut out = Vec::new();
    let mut on = false;
    for line in goose.lines() {
        if line.contains("=== PER REQUEST METRICS ===") {
            on = true;
            out.push(line);
            continue;
        }
        if on && line.contains("=== ") {
            break;
        }
        if on {
            out.push(line);
        }
    }
    if out.is_empty() {
        let lines: Vec<&str> = goose.lines().collect();
        out = lines[lines.len().saturating_sub(60)..].to_vec();
    }
    out.join("\n").trim_end_matches('\n').to_owned()
}

/// The Aggregated rows of goose's request tables: counts (requests, fails, req/s), times
/// (average, min, max, median), percentiles (50 %, 75 %, 98 %, 99 %, …).
fn mixed(table: &str) -> Option<String> {
    let aggregated: Vec<Vec<String>> = table
        .lines()
        .filter_map(|l| {
            let mut fields = l.split('|');
            let first = fields.next()?;
            first
                .trim_start_matches(' ')
                .starts_with("Aggregated")
                .then(|| {
                    fields
                        .map(|f| f.chars().filter(|c| *c != ' ' && *c != ',').collect())
                        .collect()
                })
        })
        .collect();
    let f = |row: usize, i: usize| -> String {
        aggregated
            .get(row)
            .and_then(|r| r.get(i))
            .cloned()
            .unwrap_or_default()
    };
    if aggregated.len() < 3 {
        return None;
    }
    let fails = f(0, 1).replacen('(', " (", 1);
    Some(format!(
        "{} req/s ({} requests, {fails} failed), p50 {} ms, p99 {} ms",
        f(0, 2),
        f(0, 0),
        f(2, 0),
        f(2, 3)
    ))
}

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
        "Release build; local MariaDB {}, RabbitMQ and nginx {}; every process, the load \
         generators and the ceilings sharing the cores (load average at the end: {}). wrk -t2 \
         -c32 for {seconds} s per list row; likes with examples/http_load (32 connections, \
         {seconds} s); like limits off.",
        m.get("run.mariadb"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each folder of testdata/ holds measurements and the table the verdict engine printed
    /// from them when it was bash (main's scripts/bench.sh before crates/xtask): a debug run of
    /// scripts/bench.sh with small bounds, and synthetic runs without goose's table.
    #[test]
    fn the_table_is_the_one_the_bash_verdicts_printed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata");
        let mut runs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        runs.sort();
        assert_eq!(runs.len(), 3);
        for run in runs {
            let want = std::fs::read_to_string(run.join("table.md")).unwrap();
            let got = table(&run).unwrap();
            assert!(got == want, "{}:\n{got}\nwanted:\n{want}", run.display());
        }
    }

    #[test]
    fn goose_summary_reads_the_aggregated_rows() {
        let goose = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench/testdata/debug-run/goose.txt"),
        )
        .unwrap();
        assert_eq!(
            mixed(&goose_table(&goose)).as_deref(),
            Some("789.71 req/s (16584 requests, 0 (0%) failed), p50 48 ms, p99 276 ms")
        );
        assert_eq!(mixed("no table"), None);
    }
}
