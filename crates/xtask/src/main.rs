//! The project's programs that outgrew bash, run by the scripts that install and start their
//! tools:
//!
//! - `xtask compose-proof`: the checks of the compose proof (`scripts/compose-proof.sh`
//!   installs podman and builds the images first): `docker-compose.yml` up, healthy, the happy
//!   path through its web server, Prometheus, traces, a dump, the database away, a graceful
//!   stop, Grafana's settings; down with its volumes, also on failure;
//! - `xtask bench-verdict DIR`: the benchmark's table from the measurements
//!   `scripts/bench.sh` wrote to DIR: each figure, its target, the ceiling, the ratio, met
//!   or missed;
//! - `xtask soak`: the soak (`scripts/soak.sh` builds the binaries and runs it): a release
//!   stack on its own MariaDB and RabbitMQ under a steady mixed workload with faults, every
//!   resource sampled, a table and a verdict.

mod bench;
mod compose;
mod report;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "The compose proof's checks and the benchmark's verdicts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Brings docker-compose.yml up under podman (the images built by
    /// scripts/compose-proof.sh), checks that the stack works, and takes it down.
    ComposeProof(compose::Options),
    /// Prints the benchmark's table from the measurements of a run of scripts/bench.sh.
    BenchVerdict {
        /// The directory scripts/bench.sh wrote its measurements to.
        measurements: PathBuf,
    },
    /// Runs the soak: load, faults, samples, then the table and the verdict.
    Soak(soak::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Relative paths (docker-compose.yml, deploy/, .run/) are the repository's.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    match cli.command {
        Command::ComposeProof(options) => {
            if let Err(e) = std::env::set_current_dir(&root) {
                report::log(format!("cannot enter {}: {e}", root.display()));
                return ExitCode::FAILURE;
            }
            compose::main(options)
        }
        Command::Soak(options) => soak::main(options),
        Command::BenchVerdict { measurements } => match bench::table(&measurements) {
            Ok(table) => {
                print!("{table}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                report::log(format!("bench-verdict: {e:#}"));
                ExitCode::FAILURE
            }
        },
    }
}
