//! The memory table: each process's resident memory (`VmRSS`) at each phase of the run, as
//! `scripts/bench.sh` recorded it (`memory.PHASE.PROCESS=rss_kb=… hwm_kb=…`), with the four
//! processes' sum. The end of the run is the memory row's own measurement (`memory.PROCESS`).

use super::Measurements;
use super::figures::int;

const PROCESSES: [&str; 4] = ["admin-api", "admin-consumer", "main-api", "main-consumer"];

/// The phases, in the run's order: the key's part and the column's heading.
const PHASES: [(&str, &str); 6] = [
    ("start", "started"),
    ("idle", "100 products, idle"),
    ("lists", "after the list load"),
    ("likes", "after the like load"),
    ("big", "after the 100,000-product lists"),
    ("", "end of the run"),
];

fn key(phase: &str, process: &str) -> String {
    if phase.is_empty() {
        format!("memory.{process}")
    } else {
        format!("memory.{phase}.{process}")
    }
}

/// kB as MB with one decimal.
fn mb(kb: i64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

/// The markdown table, or `None` for a run that recorded no phase (runs before it did).
pub(super) fn table(m: &Measurements) -> Option<String> {
    let phases: Vec<_> = PHASES
        .iter()
        .filter(|(phase, _)| !m.get(&key(phase, PROCESSES[0])).is_empty())
        .collect();
    if phases.iter().all(|(phase, _)| phase.is_empty()) {
        return None;
    }
    let mut out = String::from("| VmRSS, MB (peak VmHWM at the end) |");
    for (_, heading) in &phases {
        out.push_str(&format!(" {heading} |"));
    }
    out.push_str("\n| --- |");
    out.push_str(&" ---: |".repeat(phases.len()));
    out.push('\n');
    let mut sums = vec![0; phases.len()];
    for process in PROCESSES {
        out.push_str(&format!("| {process} |"));
        for (i, (phase, _)) in phases.iter().enumerate() {
            let rss = int(&m.field(&key(phase, process), "rss_kb"));
            sums[i] += rss;
            if phase.is_empty() {
                let hwm = int(&m.field(&key(phase, process), "hwm_kb"));
                out.push_str(&format!(" {} ({}) |", mb(rss), mb(hwm)));
            } else {
                out.push_str(&format!(" {} |", mb(rss)));
            }
        }
        out.push('\n');
    }
    out.push_str("| the four together |");
    for sum in sums {
        out.push_str(&format!(" {} |", mb(sum)));
    }
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn measurements(lines: &[(&str, &str)]) -> Measurements {
        Measurements {
            values: lines
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
            goose: String::new(),
        }
    }

    #[test]
    fn a_run_without_phases_prints_no_table() {
        let m = measurements(&[("memory.main-api", "rss_kb=1024 hwm_kb=2048")]);
        assert_eq!(table(&m), None);
    }

    #[test]
    fn each_process_by_phase_and_the_sum() {
        let mut lines = Vec::new();
        for (i, p) in PROCESSES.iter().enumerate() {
            lines.push((
                format!("memory.start.{p}"),
                format!("rss_kb={} hwm_kb=0", 1024 * (i + 1)),
            ));
            lines.push((
                format!("memory.{p}"),
                format!("rss_kb={} hwm_kb=10240", 2048 * (i + 1)),
            ));
        }
        let pairs: Vec<_> = lines
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let t = table(&measurements(&pairs)).unwrap();
        let rows: Vec<_> = t.lines().collect();
        assert_eq!(
            rows[0],
            "| VmRSS, MB (peak VmHWM at the end) | started | end of the run |"
        );
        assert_eq!(rows[2], "| admin-api | 1.0 | 2.0 (10.0) |");
        assert_eq!(rows[5], "| main-consumer | 4.0 | 8.0 (10.0) |");
        assert_eq!(rows[6], "| the four together | 10.0 | 20.0 |");
    }
}
