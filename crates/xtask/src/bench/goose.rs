//! goose's report (crates/loadgen): its per-request table, and the mixed workload's figures
//! from its Aggregated rows.

/// goose's per-request section only (its error summary lists the returning shoppers' 400s,
/// which the workload counts as successes); its last 60 lines when it has none.
pub fn goose_table(goose: &str) -> String {
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
pub fn mixed(table: &str) -> Option<String> {
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
