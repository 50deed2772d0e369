//! The compose proof's checks (issue 15, "The deployable stack"), after
//! `scripts/compose-proof.sh` has installed podman and podman-compose and built the images:
//!
//!  1. `podman-compose config` passes, and fails naming a variable missing from the env file;
//!  2. up (the stand-ins through an override file; no database or broker port published, so
//!     the machine's own MariaDB and RabbitMQ are never touched); every service healthy;
//!  3. through the web server: the first admin made with create-user signs in, and the happy
//!     path (testkit's): a product created, listed by the shop, liked, counted by the
//!     catalogue; Prometheus scrapes every target up; every process's spans reach the trace
//!     backend's address; a database dump; the database away and back (503, no process
//!     stops, recovery);
//!  4. graceful stop: every like accepted while the processes stop and start is counted;
//!  5. Grafana (not run: in no registry here) and Jaeger's settings checked statically;
//!     down -v, also on failure (after each service's last log lines).
//!
//! Every wait is bounded; each part's time is printed at the end. docs/operating/compose.md,
//! "The compose proof", tells each step.

mod checks;
mod config;
mod outages;
mod podman;
mod statics;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use crate::report::{Steps, log};
use podman::{Compose, PROJECT, container_of, logs, run};

/// Where the proof keeps its files (the env file, the override, each command's log).
const WORK: &str = ".run/compose-proof";

/// The services brought up and checked.
const SERVICES: [&str; 12] = [
    "mariadb",
    "rabbitmq",
    "admin-api",
    "admin-consumer",
    "main-api",
    "main-consumer",
    "catalogue-drift",
    "web",
    "prometheus",
    "alertmanager",
    "mysqld-exporter",
    "jaeger",
];
/// In the compose file, but in no registry this machine reaches: checked statically.
const NOT_RUN: [&str; 1] = ["grafana"];
/// The four processes of the shop.
const PROCESSES: [&str; 4] = ["admin-api", "admin-consumer", "main-api", "main-consumer"];

#[derive(Args, Debug)]
pub struct Options {
    /// podman-compose, as scripts/compose-proof.sh installed it.
    #[arg(long, default_value = "podman-compose")]
    podman_compose: String,
    /// The web server's published port.
    #[arg(long, env = "PROOF_WEB_PORT", default_value_t = 18080)]
    web_port: u16,
    /// Prometheus's published port.
    #[arg(long, env = "PROOF_PROMETHEUS_PORT", default_value_t = 19090)]
    prometheus_port: u16,
    /// Alertmanager's published port.
    #[arg(long, env = "PROOF_ALERTMANAGER_PORT", default_value_t = 19093)]
    alertmanager_port: u16,
    /// Grafana's port (not run here, but the compose file needs it).
    #[arg(long, env = "PROOF_GRAFANA_PORT", default_value_t = 13000)]
    grafana_port: u16,
    /// The trace backend's UI port (the stand-in's /stats).
    #[arg(long, env = "PROOF_JAEGER_PORT", default_value_t = 26686)]
    jaeger_port: u16,
    /// Leave the stack up at the end (PROOF_KEEP=1).
    #[arg(long, env = "PROOF_KEEP", value_parser = one_or_zero, default_value = "0")]
    keep: bool,
}

fn one_or_zero(s: &str) -> Result<bool, String> {
    match s {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        other => Err(format!("1 or 0, not {other:?}")),
    }
}

/// What the checks share.
pub struct Proof {
    options: Options,
    compose: Compose,
    web: String,
    prometheus: String,
    jaeger: String,
    steps: Mutex<Steps>,
}

impl Proof {
    fn step(&self, name: impl Into<String>) {
        self.steps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .step(name);
    }

    fn path(name: &str) -> String {
        format!("{WORK}/{name}")
    }
}

pub fn main(options: Options) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            log(format!("compose proof FAILED: no runtime: {e}"));
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(proof(options))
}

async fn proof(options: Options) -> std::process::ExitCode {
    // A check of testkit's panics with what failed; the message is said once, below.
    std::panic::set_hook(Box::new(|info| {
        if let Some(at) = info.location() {
            eprintln!("  (at {at})");
        }
    }));
    let proof = Arc::new(Proof {
        compose: Compose {
            program: options.podman_compose.clone(),
            env_file: Proof::path("proof.env"),
            override_file: Proof::path("compose.proof.yml"),
        },
        web: format!("http://127.0.0.1:{}", options.web_port),
        prometheus: format!("http://127.0.0.1:{}", options.prometheus_port),
        jaeger: format!("http://127.0.0.1:{}", options.jaeger_port),
        options,
        steps: Mutex::new(Steps::new("compose proof: ")),
    });
    let stack_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let task = tokio::spawn(checks(proof.clone(), stack_up.clone()));
    let (mut interrupt, mut terminate) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        _ => {
            log("compose proof FAILED: cannot handle signals");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = tokio::select! {
        joined = task => match joined {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(e) => Err(panic_message(e)),
        },
        _ = interrupt.recv() => Err("interrupted (SIGINT)".to_owned()),
        _ = terminate.recv() => Err("stopped (SIGTERM)".to_owned()),
    };
    let up = stack_up.load(std::sync::atomic::Ordering::SeqCst);
    if let Err(why) = &outcome {
        if up {
            for svc in SERVICES {
                if let Some(c) = container_of(svc).await {
                    log(format!("{svc}: last lines"));
                    eprintln!("{}", logs(&c, 12, 400).await);
                }
            }
        }
        log(format!("compose proof FAILED: {why}"));
    }
    if up {
        teardown(&proof).await;
    }
    proof
        .steps
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .print();
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a check panicked".to_owned()),
        Err(e) => e.to_string(),
    }
}

async fn teardown(proof: &Proof) {
    if proof.options.keep {
        log(format!(
            "PROOF_KEEP=1: the stack stays up (project {PROJECT})"
        ));
        return;
    }
    log("down -v");
    let down = Proof::path("down.log");
    if let Err(e) = proof
        .compose
        .run(180, &["down", "-v", "-t", "20"], &down, false)
        .await
    {
        log(format!("down -v failed (see {down}): {e:#}"));
    }
}

/// Everything after the images: config, up, the checks.
async fn checks(proof: Arc<Proof>, stack_up: Arc<std::sync::atomic::AtomicBool>) -> Result<()> {
    std::fs::create_dir_all(WORK)?;
    config::config(&proof).await?;

    proof.step(format!("up: {}", SERVICES.join(" ")));
    // A previous run's leftovers (an interrupted proof) go first.
    let _ = proof
        .compose
        .run(
            180,
            &["down", "-v", "-t", "5"],
            &Proof::path("down-before.log"),
            false,
        )
        .await;
    stack_up.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut up = vec!["up", "-d", "--no-build"];
    up.extend(SERVICES);
    proof
        .compose
        .run(600, &up, &Proof::path("up.log"), false)
        .await
        .context("up failed")?;

    proof.step("every service healthy");
    healthy().await?;

    checks::flows(&proof).await?;
    proof.step("Grafana (not run here) and Jaeger's settings, statically");
    statics::check(&Proof::path("config.yml"))?;

    proof.steps.lock().unwrap_or_else(|e| e.into_inner()).end();
    if let Ok(substituted) = std::fs::read_to_string(Proof::path("substituted.txt")) {
        log("substituted: the official images no registry here can give");
        for line in substituted.lines() {
            eprintln!("  {line}");
        }
    }
    log(format!(
        "not run here (in no registry this machine reaches; their configuration checked statically): {}",
        NOT_RUN.join(" ")
    ));
    log("compose proof passed");
    Ok(())
}

/// Podman schedules healthchecks with systemd timers, and there is no systemd here: the proof
/// runs each container's own healthcheck (the compose file's test) itself until it passes.
async fn healthy() -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mut healthy = std::collections::HashSet::new();
    let mut said = Vec::new();
    loop {
        let mut pending = Vec::new();
        for svc in SERVICES {
            if healthy.contains(svc) {
                continue;
            }
            let passed = match container_of(svc).await {
                Some(c) => run(30, "podman", &["healthcheck", "run", &c], &[])
                    .await
                    .is_ok_and(|o| o.status.success()),
                None => false,
            };
            if passed {
                healthy.insert(svc);
            } else {
                pending.push(svc);
            }
        }
        if pending.is_empty() {
            break;
        }
        if pending != said {
            eprintln!("  not healthy yet: {}", pending.join(" "));
            said = pending.clone();
        }
        if tokio::time::Instant::now() >= deadline {
            for svc in &pending {
                let c = container_of(svc).await.unwrap_or_default();
                log(format!("{svc} ({c}) is not healthy; its last lines:"));
                if !c.is_empty() {
                    eprintln!("{}", logs(&c, 20, 300).await);
                }
            }
            bail!("not healthy within 300 s: {}", pending.join(" "));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    for svc in SERVICES {
        eprintln!("  {svc:<16} healthy");
    }
    Ok(())
}
