//! The live like counts' rows (`scripts/bench.sh`, "live streams"): how many streams one
//! main-api holds, what each costs it, and how long a like takes to reach every stream.
//! Only when the run measured them (runs before the streams existed have no such rows).

use super::Measurements;
use super::figures::{field, int, le, verdict};
use super::rows::{Row, row};

/// (key, what the streams went through).
const RUNS: [(&str, &str); 2] = [("direct", "main-api itself"), ("nginx", "nginx")];

pub fn rows(m: &Measurements) -> Vec<Row> {
    let mut rows = Vec::new();
    for (key, through) in RUNS {
        let line = m.get(&format!("sse.{key}"));
        if line.is_empty() {
            continue;
        }
        let f = |name: &str| field(line, name);
        let (opened, refused, missed) = (f("opened"), f("refused"), f("missed"));
        rows.push(row(
            format!(
                "live counts: {} streams through {through}, then a like to every stream's event (10 likes, 700 ms apart)",
                f("streams")
            ),
            format!(
                "{opened} open ({refused} refused); per stream {} kB RSS, {} open files; like → \
                 first stream {} ms, median {} ms, every stream {} ms; missed {missed}; main-api \
                 CPU {} ms per update",
                f("rss_kb_per_stream"),
                f("fds_per_stream"),
                f("first_ms"),
                f("p50_ms"),
                f("all_ms"),
                f("cpu_ms_per_update"),
            ),
            "every stream within 1 s; none refused under LIVE_MAX_STREAMS",
            "—".to_owned(),
            "—".to_owned(),
            verdict(int(&refused) == 0 && int(&missed) == 0 && le(&f("all_ms"), "1000")),
        ));
    }
    rows
}
