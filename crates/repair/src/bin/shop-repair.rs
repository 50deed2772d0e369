//! The drift check and the repair between the catalogue and the shop
//! (docs/operating/backup-and-repair.md). Exit codes: 0 nothing wrong (or all repaired),
//! 1 drift found (or left to an operator), 2 an error or a refusal (nothing changed).

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use shop_repair::report::{self, Check, Pace};
use shop_repair::{Databases, where_is};

#[derive(Parser)]
#[command(
    version,
    about = "Compares the shop's mirror and likes with the catalogue (drift), reconciles them \
             (repair), or exports the drift check's result as metrics (watch)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints what differs; exit 0 when nothing, 1 when something does, 2 on an error.
    Drift(Common),
    /// Applies the catalogue's products to the mirror and the shop's likes to the counts,
    /// while the event flow runs; run again, it changes nothing.
    Repair(Common),
    /// Runs the drift check every --every-secs and serves its result on /metrics.
    Watch {
        #[command(flatten)]
        common: Common,
        #[arg(long, env = "DRIFT_LISTEN", default_value = "0.0.0.0:9105")]
        listen: String,
        #[arg(long, env = "DRIFT_EVERY_SECS", default_value_t = 300)]
        every_secs: u64,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// The catalogue's database, as admin-consumer's user.
    #[arg(long, env = "ADMIN_DATABASE_URL", hide_env_values = true)]
    admin_database_url: String,
    /// The shop's database, as main-consumer's user.
    #[arg(long, env = "MAIN_DATABASE_URL", hide_env_values = true)]
    main_database_url: String,
    /// Products a transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch: u64,
    /// How long a difference in the mirror must outlast to count (events in flight), ms.
    #[arg(long, default_value_t = 2000)]
    settle_ms: u64,
    /// A pause between batches, ms, to spare a busy database.
    #[arg(long, default_value_t = 0)]
    pause_ms: u64,
}

impl Common {
    fn pace(&self) -> Pace {
        Pace {
            batch: usize::try_from(self.batch).unwrap_or(500),
            settle: Duration::from_millis(self.settle_ms),
            pause: Duration::from_millis(self.pause_ms),
        }
    }

    async fn connect(&self) -> Result<Databases, ExitCode> {
        match Databases::connect(&self.admin_database_url, &self.main_database_url).await {
            Ok(dbs) => {
                eprintln!(
                    "catalogue: {} ({}), shop: {} ({})",
                    where_is(&self.admin_database_url),
                    dbs.admin_name,
                    where_is(&self.main_database_url),
                    dbs.main_name
                );
                Ok(dbs)
            }
            Err(e) => Err(fail(&e)),
        }
    }
}

fn fail(e: &dyn std::error::Error) -> ExitCode {
    // The errors' own messages include their sources' already.
    eprintln!("shop-repair: {e}");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Drift(common) => {
            let dbs = match common.connect().await {
                Ok(d) => d,
                Err(code) => return code,
            };
            match report::check(&dbs, common.pace()).await {
                Ok(check) => {
                    print!("{}", check.render());
                    ExitCode::from(u8::from(!check.is_clean()))
                }
                Err(e) => fail(&e),
            }
        }
        Command::Repair(common) => {
            let dbs = match common.connect().await {
                Ok(d) => d,
                Err(code) => return code,
            };
            match shop_repair::ids_behind(&dbs).await {
                Ok(Some(why)) => {
                    eprintln!("shop-repair: refusing: {why} (nothing was changed)");
                    return ExitCode::from(2);
                }
                Ok(None) => {}
                Err(e) => return fail(&e),
            }
            match report::repair(&dbs, common.pace()).await {
                Ok(done) => {
                    print!("{}", done.render());
                    ExitCode::from(u8::from(!done.left.is_empty()))
                }
                Err(e) => fail(&e),
            }
        }
        Command::Watch {
            common,
            listen,
            every_secs,
        } => watch(common, &listen, every_secs).await,
    }
}

/// Serves the last check's metrics; a check that fails reports success 0 and the last
/// counts it had.
async fn watch(common: Common, listen: &str, every_secs: u64) -> ExitCode {
    // Started with the stack, it may come before the APIs have migrated their databases: as
    // a service it asks again every 2 s for up to 2 minutes before it gives up with the
    // refusal (a wrong name still ends it then, with the same message and exit code).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let dbs = loop {
        match common.connect().await {
            Ok(d) => break d,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(code) => return code,
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    let text = Arc::new(Mutex::new(Check::default().metrics(false, 0)));
    let served = text.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let served = served.clone();
            async move { served.lock().map(|t| t.clone()).unwrap_or_default() }
        }),
    );
    tokio::spawn(async move {
        let mut last = Check::default();
        loop {
            let result = report::check(&dbs, common.pace()).await;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let ok = match result {
                Ok(check) => {
                    if !check.is_clean() {
                        eprint!("{}", check.render());
                    }
                    last = check;
                    true
                }
                Err(e) => {
                    eprintln!("shop-repair watch: the drift check failed: {e}");
                    false
                }
            };
            if let Ok(mut t) = text.lock() {
                *t = last.metrics(ok, now);
            }
            tokio::time::sleep(Duration::from_secs(every_secs.max(1))).await;
        }
    });
    let stop = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}
