//! The process's CPU, memory, file descriptors and threads, read from `/proc/self` at each
//! scrape and written in Prometheus' text format under the names its client libraries use
//! (definitions in [`super::catalog::PROCESS`]). On a system without `/proc` nothing is
//! written.

use std::fmt::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::catalog::PROCESS;

/// Clock ticks per second of `/proc/self/stat`'s CPU times: `USER_HZ`, 100 on every Linux
/// architecture Prometheus' own process collector supports (it assumes the same).
const USER_HZ: f64 = 100.0;

static START: OnceLock<f64> = OnceLock::new();

/// Notes the process's start time (call once, early).
pub fn mark_start() {
    START.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    });
}

/// What `/proc/self` says now, in the order of [`PROCESS`].
fn read() -> Option<[f64; 7]> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of stat(5): 11 and 12 after the command name.
    let cpu = (ticks(11)? + ticks(12)?) / USER_HZ;
    let threads = ticks(17)?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| status_bytes(&status, key);
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as f64;
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let max_fds = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(f64::INFINITY);
    let start = START.get().copied().unwrap_or(0.0);
    Some([
        cpu,
        kib("VmRSS:")?,
        kib("VmSize:")?,
        open_fds,
        max_fds,
        threads,
        start,
    ])
}

/// The value of `key` (`VmRSS:`, `VmSize:`) in `/proc/self/status`'s text, in bytes.
fn status_bytes(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    Some(
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<f64>()
            .ok()?
            * 1024.0,
    )
}

/// This process's resident set (`VmRSS`) now, in bytes; `None` without `/proc`.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_bytes(&status, "VmRSS:").map(|b| b as u64)
}

/// Appends the process families to a scrape's text.
pub fn render(out: &mut String) {
    let Some(values) = read() else { return };
    for (family, value) in PROCESS.iter().zip(values) {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        if value.is_infinite() {
            let _ = writeln!(out, "{} +Inf", family.name);
        } else {
            let _ = writeln!(out, "{} {}", family.name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_families_are_read_from_proc() {
        super::mark_start();
        let mut out = String::new();
        super::render(&mut out);
        for family in super::PROCESS {
            assert!(out.contains(&format!("# TYPE {} ", family.name)), "{out}");
        }
        let rss: f64 = out
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(rss > 1_000_000.0, "{out}");
        let fds: f64 = out
            .lines()
            .find_map(|l| l.strip_prefix("process_open_fds "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(fds >= 3.0, "{out}");
    }
}
