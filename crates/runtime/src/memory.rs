//! Giving freed heap back to the system: every `MEMORY_TRIM_SECS` (10 s by default, `0`
//! turns it off) each API and consumer process asks glibc's allocator to return the free
//! pages it holds (`malloc_trim(0)`).
//!
//! # Why
//!
//! glibc gives memory back only from the top of each arena's heap, and only once the free
//! space there exceeds its trim threshold. What a burst of work allocated and freed in the
//! middle of a heap (2,000 connections' buffers and tasks in the benchmark's overload, the
//! encodings of a 100,000-product list built again) stays resident, as free chunks, until
//! the process ends. Measured on a release main-api (docs/performance.md, "Memory"): 21 MB
//! before the overload, 85 MB after it and still 85 MB minutes later; one `malloc_trim(0)`
//! brought it to 37 MB (what is still live: the connections' slots the runtime keeps, the
//! lists). glibc's own tunables (`glibc.malloc.trim_threshold`, `arena_max`) did not help
//! (85 and 76 MB): the free pages are not at the top. Another allocator (jemalloc with
//! background decay, mimalloc) returns such pages by itself, but costs every process more
//! at start than it saves (measured in the same section), so the services keep glibc and
//! trim.
//!
//! # Cost
//!
//! A trim walks each arena's free chunks and `madvise`s the free pages away; pages used
//! again later fault back in. It runs on a timer, not per request, and never blocks the
//! caller of an allocation for long: with the heaps these processes have (tens of MB) a
//! trim takes well under a millisecond to a few milliseconds (`memory_trim_seconds`). What
//! it returned is counted in `memory_returned_bytes_total`.
//!
//! On a system whose C library is not glibc the task does nothing.

use std::time::{Duration, Instant};

use crate::config::{ConfigError, Env};
use crate::metrics::catalog;
use crate::metrics::process::resident_bytes;

/// How often to trim by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// The trim interval `MEMORY_TRIM_SECS` asks for: `None` when `0` (off).
pub fn interval_from_env(env: &Env) -> Result<Option<Duration>, ConfigError> {
    let secs: u64 = env.parse("MEMORY_TRIM_SECS", DEFAULT_INTERVAL.as_secs())?;
    Ok((secs > 0).then(|| Duration::from_secs(secs)))
}

/// Trims every `interval` for as long as the process runs (a task on the current runtime;
/// it holds nothing that a stop must wait for).
pub fn spawn(interval: Option<Duration>) {
    let Some(interval) = interval else { return };
    catalog::MEMORY_RETURNED.start_at_zero(catalog::NO_LABELS);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            trim_now();
        }
    });
}

/// Returns the free pages of every arena now; counts and times it. Returns the bytes the
/// process's resident set shrank by (0 where it cannot be read or trimming is unsupported).
pub fn trim_now() -> u64 {
    let before = resident_bytes();
    let start = Instant::now();
    if !release_free_pages() {
        return 0;
    }
    catalog::MEMORY_TRIM_DURATION.record(catalog::NO_LABELS, start.elapsed().as_secs_f64());
    let returned = match (before, resident_bytes()) {
        (Some(b), Some(a)) => b.saturating_sub(a),
        _ => 0,
    };
    catalog::MEMORY_RETURNED.add(catalog::NO_LABELS, returned);
    if returned > 0 {
        tracing::debug!(returned, "memory given back to the system");
    }
    returned
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_pages() -> bool {
    // SAFETY: malloc_trim only walks and shrinks the allocator's own free lists under the
    // arenas' locks; it takes no pointer and is safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) };
    true
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_pages() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_defaults_to_ten_seconds_and_zero_turns_it_off() {
        let none = Env::from_pairs([]);
        assert_eq!(interval_from_env(&none).unwrap(), Some(DEFAULT_INTERVAL));
        let off = Env::from_pairs([("MEMORY_TRIM_SECS", "0")]);
        assert_eq!(interval_from_env(&off).unwrap(), None);
        let five = Env::from_pairs([("MEMORY_TRIM_SECS", "5")]);
        assert_eq!(
            interval_from_env(&five).unwrap(),
            Some(Duration::from_secs(5))
        );
        let bad = Env::from_pairs([("MEMORY_TRIM_SECS", "soon")]);
        let e = interval_from_env(&bad).unwrap_err().to_string();
        assert!(e.contains("MEMORY_TRIM_SECS"), "{e}");
    }

    /// Memory freed in the middle of the heap stays resident until a trim returns it.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_trim_returns_what_was_freed_in_the_middle_of_the_heap() {
        // 64 MiB in 4 KiB blocks (below glibc's mmap threshold, so on the heap), every
        // page touched; then all but every 64th block freed, and one block kept on top so
        // that the free space is not at the heap's end, which glibc would trim by itself.
        let mut blocks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![i as u8; 4096]).collect();
        let top = vec![1u8; 4096];
        let mut kept = Vec::new();
        for (i, b) in blocks.drain(..).enumerate() {
            if i % 64 == 0 {
                kept.push(b);
            }
        }
        let before = resident_bytes().unwrap() / 1024;
        let returned = trim_now();
        let after = resident_bytes().unwrap() / 1024;
        assert!(
            returned >= 32 * 1024 * 1024,
            "a trim returned {returned} bytes (VmRSS {before} KiB -> {after} KiB)"
        );
        std::hint::black_box((&kept, &top));
    }
}
