use std::path::Path;

use super::goose::{goose_table, mixed};
use super::table;

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
