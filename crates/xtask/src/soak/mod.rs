//! `xtask soak`: the shop under a steady mixed workload for a bounded time, with a fault
//! every few minutes, every resource sampled, then a verdict (scripts/soak.sh runs it;
//! docs/operating/soak.md tells what it does and shows a 20-minute run's table).
//!
//! Everything runs on the soak's own MariaDB (`testkit::MariaDbNode`) and RabbitMQ node
//! (`testkit::RabbitNode`), never the machine's: the faults stop them. The four processes
//! are testkit's `ShopStack` (binaries from `SHOP_BIN_DIR`: the release build's), loaded by
//! goose (`loadgen`, throttled) straight at the two APIs. Exit status 1 on a resource that
//! grows, a like or product lost or doubled, a purge that did not run, or a process that
//! did not stop cleanly.

mod counts;
mod faults;
mod report;
mod run;
mod sample;
mod verdict;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::report::log;

#[derive(Args, Debug, Clone)]
pub struct Options {
    /// How long the load runs, in minutes (faults and sampling scale with it).
    #[arg(long, env = "SOAK_MINUTES", default_value_t = 20.0)]
    pub minutes: f64,
    /// The load generator's binary (crates/loadgen).
    #[arg(long, env = "SOAK_LOADGEN")]
    pub loadgen: PathBuf,
    /// Requests a second, in all (goose --throttle-requests).
    #[arg(long, env = "SOAK_RATE", default_value_t = 150)]
    pub rate: u32,
    /// goose users.
    #[arg(long, env = "SOAK_USERS", default_value_t = 20)]
    pub users: u32,
    /// Where the logs, goose's report, the samples and the table go.
    #[arg(long, env = "SOAK_OUT", default_value = ".run/soak")]
    pub out: PathBuf,
}

impl Options {
    pub fn total(&self) -> Duration {
        Duration::from_secs_f64((self.minutes * 60.0).max(60.0))
    }

    /// How often the purges run: a run of three minutes sees a dozen, of twenty, forty.
    pub fn purge_interval(&self) -> u64 {
        (self.total().as_secs() / 40).clamp(5, 60)
    }

    /// Retention of processed message ids and audit records (at least a minute: a
    /// redelivery after a broker restart must still find its id), published outbox rows
    /// purged at once (`OUTBOX_RETENTION_HOURS=0`).
    pub fn retention(&self) -> u64 {
        (self.total().as_secs() / 10).clamp(60, 600)
    }

    /// Seconds between samples: about 150 in a run.
    pub fn sample_every(&self) -> Duration {
        Duration::from_secs_f64((self.total().as_secs_f64() / 150.0).max(1.0))
    }

    /// After a fault has recovered, samples are left out of the verdict for this long.
    pub fn settle(&self) -> Duration {
        Duration::from_secs_f64((self.total().as_secs_f64() / 40.0).max(15.0))
    }
}

pub fn main(options: Options) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log(format!("soak: no runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    // Ctrl-C or SIGTERM drop the run: the stack's processes get SIGTERM, the nodes are
    // stopped and removed, a paused database is continued (their `Drop`s).
    let outcome = runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = run::run(options) => r,
            _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
            _ = term.recv() => anyhow::bail!("terminated"),
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            log(format!("soak: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_scale_with_the_run() {
        let o = |minutes| Options {
            minutes,
            loadgen: PathBuf::new(),
            rate: 1,
            users: 1,
            out: PathBuf::new(),
        };
        assert_eq!((o(3.0).purge_interval(), o(3.0).retention()), (5, 60));
        assert_eq!((o(20.0).purge_interval(), o(20.0).retention()), (30, 120));
        assert_eq!(o(3.0).sample_every(), Duration::from_secs_f64(1.2));
        assert_eq!(o(20.0).settle(), Duration::from_secs(30));
    }
}
