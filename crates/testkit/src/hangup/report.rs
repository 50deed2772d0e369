//! What a burst did, as its clients saw it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::Write;

/// What a burst did, as its clients saw it.
#[derive(Debug, Default, Clone)]
pub struct BurstReport {
    /// Requests written (in full, or up to mid-body).
    pub sent: u64,
    /// Of those, the ones whose client waited for the answer before its hang-up request.
    pub awaited: u64,
    /// Of those, the ones whose answer (its status line at least) arrived before the hang-up.
    pub answered: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests sent, by write.
    pub writes: BTreeMap<&'static str, u64>,
    /// Connections refused or timed out.
    pub not_connected: u64,
    pub elapsed: Duration,
}

impl BurstReport {
    /// Adds `other`'s figures (and its time) to this one's.
    pub fn merge(&mut self, other: BurstReport) {
        self.elapsed += other.elapsed;
        self.sent += other.sent;
        self.awaited += other.awaited;
        self.answered += other.answered;
        self.not_connected += other.not_connected;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (k, v) in other.writes {
            *self.writes.entry(k).or_default() += v;
        }
    }
}

impl fmt::Display for BurstReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let writes: Vec<String> = self
            .writes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}x{v}"))
            .collect();
        write!(
            f,
            "{} requests ({} awaited, the rest hung up on) in {:.1} s ({}), {} answered [{}], {} not connected",
            self.sent,
            self.awaited,
            self.elapsed.as_secs_f64(),
            writes.join(", "),
            self.answered,
            statuses.join(" "),
            self.not_connected
        )
    }
}

impl BurstReport {
    pub(super) fn count(&mut self, write: Write, answer: Option<u16>) {
        self.sent += 1;
        *self.writes.entry(write.name()).or_default() += 1;
        if let Some(status) = answer {
            self.answered += 1;
            *self.statuses.entry(status).or_default() += 1;
        }
    }
}
