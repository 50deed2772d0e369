//! The stack without its database, and stopped and started again under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use testkit::{Proc, ShopClient, eventually};

use super::checks::{http, until_status};
use super::podman::{self, container, containers, inspect, podman, run};
use super::{PROCESSES, Proof};
use crate::report::log;

pub async fn database_away(proof: &Proof, http: &reqwest::Client) -> Result<()> {
    proof.step("the database away: the APIs say so (503), keep running, and recover");
    let catalogue = format!("{}{}", proof.web, Proc::AdminApi.health_path());
    let shop = format!("{}{}", proof.web, Proc::MainApi.health_path());
    let mariadb = container("mariadb").await?;
    podman(60, &["stop", "-t", "30", &mariadb])
        .await
        .context("stopping mariadb failed")?;
    let body = until_status(
        http,
        &catalogue,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(30),
        "the catalogue's health to say 503 without its database",
    )
    .await;
    ensure!(
        body.contains("database: not reachable"),
        "the health answer does not name the database: {body}"
    );
    until_status(
        http,
        &shop,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(30),
        "the shop's health to say 503 without its database",
    )
    .await;
    for svc in PROCESSES {
        ensure!(
            inspect(svc, "{{.State.Running}}").await? == "true",
            "{svc} stopped without its database"
        );
    }
    podman(60, &["start", &mariadb])
        .await
        .context("starting mariadb failed")?;
    let back = Duration::from_secs(90);
    until_status(
        http,
        &catalogue,
        StatusCode::OK,
        back,
        "the catalogue to recover",
    )
    .await;
    until_status(http, &shop, StatusCode::OK, back, "the shop to recover").await;
    log(
        "503 naming the database while it was away, every process still running, healthy again after",
    );
    Ok(())
}

/// Likes by new shoppers go on while the APIs and consumers stop (SIGTERM, within the stop
/// grace period) and start again; every like that got 200 must be counted in the end.
pub async fn graceful_stop(proof: &Proof, client: &ShopClient, id: u64) -> Result<()> {
    proof.step("graceful stop: no accepted like lost");
    let liking = Arc::new(AtomicBool::new(true));
    let mut shoppers = ShopClient::new(proof.web.clone(), proof.web.clone(), None);
    shoppers.http = http(Duration::from_secs(10), None)?;
    let liker = tokio::spawn({
        let liking = liking.clone();
        async move {
            let mut accepted = 0u64;
            for _ in 0..2000 {
                if !liking.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(StatusCode::OK) = shoppers.try_like(id).await {
                    accepted += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            accepted
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;

    let stop_log = Proof::path("stop.log");
    let started = Instant::now();
    proof
        .compose
        .run(
            120,
            &[
                "stop",
                "-t",
                "20",
                "main-api",
                "main-consumer",
                "admin-consumer",
                "admin-api",
            ],
            &stop_log,
            false,
        )
        .await
        .context("stop failed")?;
    let took = started.elapsed().as_secs();
    for svc in PROCESSES {
        let code = inspect(svc, "{{.State.ExitCode}}").await?;
        ensure!(
            code == "0",
            "{svc} exited with {code} on SIGTERM (not a graceful stop)"
        );
    }
    log(format!(
        "the four processes stopped with exit code 0 in {took} s"
    ));
    // nginx resolves the APIs' names when it starts, and a container started again may get
    // another address: the web server is restarted after them, as `docker compose stop` and
    // `start` of the whole stack would do.
    proof
        .compose
        .run(60, &["stop", "-t", "15", "web"], &stop_log, true)
        .await
        .context("stop failed")?;
    // (podman-compose start fails here: podman 4.3 refuses to start a container whose
    // dependencies' dependencies are not in the same command. All of the project's
    // containers in one `podman start` works; the running ones are left as they are.)
    let all = containers().await?;
    let mut start = vec!["start"];
    start.extend(all.iter().map(String::as_str));
    let out = run(120, "podman", &start, &[]).await?;
    std::fs::write(Proof::path("start.log"), podman::printed(&out))?;
    if !out.status.success() {
        bail!("start failed: {}", podman::tail(&podman::printed(&out), 20));
    }
    let plain = http(Duration::from_secs(20), None)?;
    let back = Duration::from_secs(120);
    let shop = format!("{}{}", proof.web, Proc::MainApi.health_path());
    let catalogue = format!("{}{}", proof.web, Proc::AdminApi.health_path());
    until_status(&plain, &shop, StatusCode::OK, back, "the shop to be back").await;
    until_status(
        &plain,
        &catalogue,
        StatusCode::OK,
        back,
        "the catalogue to be back",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    liking.store(false, Ordering::SeqCst);
    let accepted = liker.await?;
    // +1: the happy path's shopper.
    let want = accepted + 1;
    eventually(
        Duration::from_secs(120),
        &format!("the catalogue to count all {want} accepted likes"),
        || async { (client.catalogue_likes(id).await == Some(want)).then_some(()) },
    )
    .await;
    log(format!(
        "{accepted} likes accepted around the stop, all {want} counted by the catalogue"
    ));
    Ok(())
}
