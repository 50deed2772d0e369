//! The soak's report: the faults and their recovery, the resources' table, the purges, the
//! counts, and the verdict.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use testkit::Proc;

use super::Options;
use super::counts::{Tally, Verdict};
use super::run::Happened;
use super::sample::{Record, metric};
use super::verdict::{Judged, judge, table};

/// The purges every run must see, by process and table.
pub const EXPECTED: [(&str, &str); 6] = [
    ("admin-api", "outbox"),
    ("main-api", "outbox"),
    ("admin-api", "sessions"),
    ("admin-consumer", "processed_messages"),
    ("main-consumer", "processed_messages"),
    ("admin-consumer", "audit"),
];

/// One purge's runs as seen on `/metrics` over the run, across restarts (a counter that
/// went down belongs to a process started again).
#[derive(Debug, Default, Clone)]
pub struct Track {
    seen: [f64; 3],
    /// Runs ok, runs failed, rows deleted.
    pub totals: [f64; 3],
    /// When the last run was first seen (seconds into the run).
    pub last_run: Option<f64>,
}

#[derive(Debug, Default)]
pub struct Purges(pub BTreeMap<(&'static str, &'static str), Track>);

impl Purges {
    pub fn update(&mut self, t: f64, pages: &BTreeMap<&'static str, String>) {
        for (process, table) in EXPECTED {
            let Some(page) = pages.get(process) else {
                continue;
            };
            let tl = format!("table=\"{table}\"");
            let now = [
                metric(page, "purges_total", &[&tl, "outcome=\"ok\""]).unwrap_or(0.0),
                metric(page, "purges_total", &[&tl, "outcome=\"failed\""]).unwrap_or(0.0),
                metric(page, "purged_rows_total", &[&tl]).unwrap_or(0.0),
            ];
            let track = self.0.entry((process, table)).or_default();
            for (i, value) in now.into_iter().enumerate() {
                let seen = track.seen[i];
                let grew = if value < seen { value } else { value - seen };
                if i == 0 && grew > 0.0 {
                    track.last_run = Some(t);
                }
                track.totals[i] += grew;
                track.seen[i] = value;
            }
        }
    }
}

pub struct Report<'a> {
    pub o: &'a Options,
    pub end: f64,
    pub rec: &'a Record,
    pub happened: &'a [Happened],
    pub purges: &'a Purges,
    pub tally: &'a Tally,
    pub counts: &'a Verdict,
    pub drained: Duration,
    pub stopped: &'a [(Proc, Option<i32>, Duration)],
    pub took: Duration,
}

impl Report<'_> {
    /// Fault windows: from each fault until it recovered plus the settling time (to the
    /// end of the run if it never did).
    fn windows(&self) -> Vec<(f64, f64)> {
        let settle = self.o.settle().as_secs_f64();
        self.happened
            .iter()
            .map(|h| {
                (
                    h.began - 1.0,
                    h.recovered.map_or(f64::INFINITY, |r| r + settle),
                )
            })
            .collect()
    }

    pub fn render(&self) -> (String, bool) {
        let o = self.o;
        let mut out = String::new();
        let mut failures = Vec::new();
        let _ = writeln!(
            out,
            "\n## Soak: {} min of load, {} req/s from {} goose users, {} faults\n\n\
             Purges every {} s (`PURGE_INTERVAL_SECS`), processed ids and audit records kept \
             {} s, published outbox rows purged at once; a sample every {:.1} s; the verdict \
             on the last half ({:.0} s to {:.0} s) without the fault windows (a fault until it \
             recovered, plus {:.0} s).\n",
            o.minutes,
            o.rate,
            o.users,
            self.happened.len(),
            o.purge_interval(),
            o.retention(),
            o.sample_every().as_secs_f64(),
            self.end / 2.0,
            self.end,
            o.settle().as_secs_f64()
        );
        out.push_str("| fault | at | recovered after |\n| --- | --- | --- |\n");
        for h in self.happened {
            let rec = match h.recovered {
                Some(r) => format!("{:.1} s", r - h.began),
                None => {
                    failures.push(format!("{} never recovered", h.fault));
                    "never (180 s)".to_owned()
                }
            };
            let _ = writeln!(out, "| {} | {:.0} s | {rec} |", h.fault, h.began);
        }
        let windows = self.windows();
        let judged: Vec<Judged> = self
            .rec
            .series
            .values()
            .map(|s| judge(s, self.end / 2.0, self.end, &windows))
            .collect();
        for j in &judged {
            if j.grows {
                failures.push(format!(
                    "{} grows ({:+.1} over the last half)",
                    j.name, j.growth
                ));
            } else if j.unjudged() {
                failures.push(format!("{}: {} samples to judge, too few", j.name, j.n));
            }
        }
        out.push('\n');
        out.push_str(&table(&judged));
        out.push_str("\n| purge | runs | failed runs | rows deleted | last run |\n| --- | --- | --- | --- | --- |\n");
        let late = self.end
            - 3.0 * o.purge_interval() as f64
            - 2.0 * o.sample_every().as_secs_f64()
            - 10.0;
        for (process, table) in EXPECTED {
            let track = self
                .purges
                .0
                .get(&(process, table))
                .cloned()
                .unwrap_or_default();
            let [runs, failed, rows] = track.totals;
            let last = track
                .last_run
                .map_or("never".to_owned(), |t| format!("{t:.0} s"));
            let _ = writeln!(
                out,
                "| {table} ({process}) | {runs} | {failed} | {rows} | {last} |"
            );
            if runs < 2.0 || track.last_run.is_none_or(|t| t < late) {
                failures.push(format!(
                    "the {table} purge of {process} did not run throughout"
                ));
            }
            if table != "sessions" && rows == 0.0 {
                failures.push(format!("the {table} purge of {process} deleted nothing"));
            }
        }
        let c = self.counts;
        let t = self.tally;
        let _ = writeln!(
            out,
            "\n| count | value | must be |\n| --- | --- | --- |\n\
             | likes answered 200 | {} | |\n\
             | likes answered 400 (already liked) | {} | |\n\
             | likes without an answer (or another status) | {} | |\n\
             | like rows in the shop | {} | 200s ≤ rows ≤ 200s + unanswered |\n\
             | likes answered 200 missing from the shop (lost) | {} | 0 |\n\
             | like rows beyond every like sent (doubled) | {} | 0 |\n\
             | shop's count shards against its rows | {} | 0 |\n\
             | likes missing from the catalogue's counts (lost events) | {} | 0 |\n\
             | likes counted twice by the catalogue (doubled events) | {} | 0 |\n\
             | products created (201) | {} (and {} without an answer); renamed (202): {} | |\n\
             | products created missing from the catalogue or the shop | {} | 0 |\n\
             | products whose mirror is not at the catalogue's version | {} | 0 |\n\
             | the pipeline drained after the load in | {:.1} s | |",
            c.likes_answered_200,
            t.likes_refused,
            c.likes_unsure,
            c.shop_like_rows,
            c.likes_lost_by_shop,
            c.likes_beyond_sent,
            c.shard_mismatch,
            c.likes_lost_in_pipeline,
            c.likes_doubled_in_pipeline,
            c.created_201,
            t.creates_unsure,
            t.renamed,
            c.products_lost,
            c.mirror_behind,
            self.drained.as_secs_f64()
        );
        if !c.ok() {
            failures.push("likes or products lost or doubled (the counts above)".to_owned());
        }
        if c.likes_answered_200 == 0 || c.created_201 == 0 {
            failures.push("the load generator got no like or no create through".to_owned());
        }
        for (p, code, took) in self.stopped {
            if *code != Some(0) {
                failures.push(format!(
                    "{} exited {code:?} on SIGTERM after {took:?}",
                    p.binary()
                ));
            }
        }
        let _ = writeln!(
            out,
            "\nThe soak took {:.0} s in all.",
            self.took.as_secs_f64()
        );
        if failures.is_empty() {
            out.push_str(
                "\nVerdict: PASS: no resource grows, nothing lost or doubled, every purge ran.\n",
            );
        } else {
            out.push_str("\nVerdict: FAIL:\n");
            for f in &failures {
                let _ = writeln!(out, "- {f}");
            }
        }
        (out, failures.is_empty())
    }
}

/// Every sample, `seconds,series,value` a line.
pub fn write_samples(path: &Path, rec: &Record) -> std::io::Result<()> {
    let mut csv = String::from("seconds,series,value\n");
    for s in rec.series.values() {
        for p in &s.points {
            let _ = writeln!(csv, "{:.1},{},{}", p.t, s.name, p.v);
        }
    }
    std::fs::write(path, csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purges_are_counted_across_a_restart() {
        let page = |ok: u32, rows: u32| {
            format!(
                "purges_total{{table=\"audit\",outcome=\"ok\"}} {ok}\npurged_rows_total{{table=\"audit\"}} {rows}\n"
            )
        };
        let mut p = Purges::default();
        for (t, ok, rows) in [(1.0, 1, 0), (2.0, 3, 10), (3.0, 3, 10), (4.0, 1, 5)] {
            let pages = BTreeMap::from([("admin-consumer", page(ok, rows))]);
            p.update(t, &pages);
        }
        let track = &p.0[&("admin-consumer", "audit")];
        assert_eq!(track.totals, [4.0, 0.0, 15.0]);
        assert_eq!(track.last_run, Some(4.0));
    }
}
