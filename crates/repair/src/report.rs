//! The drift check and the repair as the command runs them, and what they print.

use std::fmt::Write;
use std::time::Duration;

use crate::Databases;
use crate::counts::{self, Counts};
use crate::mirror::{self, Applied, Drift};

/// How a check or a repair goes through the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Products a transaction.
    pub batch: usize,
    /// How long a difference in the mirror must last to count (events in flight).
    pub settle: Duration,
    /// Between batches, to spare a busy database.
    pub pause: Duration,
}

/// What the drift check found.
#[derive(Debug, Default, Clone)]
pub struct Check {
    /// The catalogue's next id is one the shop knows ([`crate::ids_behind`]).
    pub ids: Option<String>,
    pub mirror: Vec<Drift>,
    pub counts: Counts,
}

impl Check {
    pub fn is_clean(&self) -> bool {
        self.ids.is_none() && self.mirror.is_empty() && self.counts.drift.is_empty()
    }

    /// Every difference, one a line, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(why) = &self.ids {
            let _ = writeln!(out, "ids: {why}");
        }
        for d in &self.mirror {
            let _ = writeln!(out, "mirror: {d}");
        }
        for d in &self.counts.drift {
            let _ = writeln!(out, "counts: {d}");
        }
        if self.is_clean() {
            let _ = writeln!(
                out,
                "no drift: the shop's mirror matches the catalogue and the catalogue's {} counts match the shop's likes",
                self.counts.products
            );
        } else {
            let _ = writeln!(
                out,
                "drift: {} products differ in the mirror, {} of {} like counts differ",
                self.mirror.len(),
                self.counts.drift.len(),
                self.counts.products
            );
        }
        out
    }

    /// The check in Prometheus' text format (`shop-repair watch`).
    pub fn metrics(&self, success: bool, at_secs: u64) -> String {
        let mut out = String::from(
            "# HELP catalogue_drift_products Products on which the shop's mirror and the catalogue disagree at the last drift check, by kind.\n\
             # TYPE catalogue_drift_products gauge\n",
        );
        for kind in ["missing", "stale", "extra", "deleted_in_shop", "ahead"] {
            let n = self.mirror.iter().filter(|d| d.kind() == kind).count();
            let _ = writeln!(out, "catalogue_drift_products{{kind=\"{kind}\"}} {n}");
        }
        let n = self.counts.drift.len();
        let _ = write!(
            out,
            "# HELP catalogue_drift_like_counts Catalogue like counts that differ from the shop's likes at the last drift check.\n\
             # TYPE catalogue_drift_like_counts gauge\ncatalogue_drift_like_counts {n}\n\
             # HELP catalogue_drift_check_success Whether the last drift check could read both databases (1) or not (0).\n\
             # TYPE catalogue_drift_check_success gauge\ncatalogue_drift_check_success {}\n\
             # HELP catalogue_drift_last_check_timestamp_seconds When the last drift check ended.\n\
             # TYPE catalogue_drift_last_check_timestamp_seconds gauge\ncatalogue_drift_last_check_timestamp_seconds {at_secs}\n",
            u8::from(success)
        );
        out
    }
}

/// The drift check: reads only (the count batches lock and roll back).
pub async fn check(dbs: &Databases, pace: Pace) -> Result<Check, sqlx::Error> {
    let ids = crate::ids_behind(dbs).await?;
    let mirror = mirror::settled(&dbs.admin, &dbs.main, pace.settle).await?;
    let counts = counts::pass(&dbs.admin, &dbs.main, pace.batch, false, pace.pause).await?;
    Ok(Check {
        ids,
        mirror,
        counts,
    })
}

/// What a repair did.
#[derive(Debug, Default, Clone)]
pub struct Repair {
    pub mirror: Applied,
    pub counts_set: u64,
    /// Like events in flight while their counts were read ([`Counts::in_flight`]).
    pub in_flight: u64,
    /// Differences the repair leaves to an operator.
    pub left: Vec<Drift>,
}

impl Repair {
    pub fn changed(&self) -> u64 {
        self.mirror.changed() + self.counts_set
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.left {
            let _ = writeln!(out, "left: {d}");
        }
        let m = &self.mirror;
        let _ = writeln!(
            out,
            "repaired: mirror {} inserted, {} updated, {} deleted ({} already caught up); {} like counts set ({} likes in flight accounted for); changed {}",
            m.inserted,
            m.updated,
            m.deleted,
            m.skipped,
            self.counts_set,
            self.in_flight,
            self.changed()
        );
        out
    }
}

/// The repair: the mirror first (so that counts are set on products the shop has), then
/// the counts. Each batch commits on its own; run again, it finds only what is left.
pub async fn repair(dbs: &Databases, pace: Pace) -> Result<Repair, sqlx::Error> {
    let drift = mirror::settled(&dbs.admin, &dbs.main, pace.settle).await?;
    let mirror = mirror::repair(&dbs.main, &drift, pace.batch, pace.pause).await?;
    let counts = counts::pass(&dbs.admin, &dbs.main, pace.batch, true, pace.pause).await?;
    Ok(Repair {
        mirror,
        counts_set: counts.set,
        in_flight: counts.in_flight,
        left: drift.into_iter().filter(|d| !d.repairable()).collect(),
    })
}
