//! What the proof checks on the running stack, through its published ports only.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use testkit::monitoring::prometheus_api;
use testkit::{Proc, ShopClient, eventually, happy_path};

use super::podman::{self, container, containers, inspect, podman, run};
use super::{PROCESSES, Proof};
use crate::report::log;

const ADMIN_EMAIL: &str = "proof@example.com";

/// A client of the web server that gives up on an answer after `timeout`, sending `cookie`
/// (a session) on every request when given.
fn http(timeout: Duration, cookie: Option<&str>) -> Result<reqwest::Client> {
    let mut headers = header::HeaderMap::new();
    if let Some(cookie) = cookie {
        headers.insert(header::COOKIE, header::HeaderValue::from_str(cookie)?);
    }
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .default_headers(headers)
        .build()?)
}

/// The status of `GET url` and its body, `None` when no answer came.
async fn get(http: &reqwest::Client, url: &str) -> Option<(StatusCode, String)> {
    let res = http.get(url).send().await.ok()?;
    let status = res.status();
    Some((status, res.text().await.unwrap_or_default()))
}

/// Waits up to `within` until `GET url` answers `want`; its body.
async fn until_status(
    http: &reqwest::Client,
    url: &str,
    want: StatusCode,
    within: Duration,
    what: &str,
) -> String {
    eventually(within, what, || async {
        get(http, url)
            .await
            .filter(|(status, _)| *status == want)
            .map(|(_, body)| body)
    })
    .await
}

pub async fn flows(proof: &Proof) -> Result<()> {
    let web = &proof.web;
    proof.step(format!("both flows through the web server ({web})"));
    let plain = http(Duration::from_secs(20), None)?;
    let (status, page) = get(&plain, &format!("{web}/"))
        .await
        .context("the gallery page: no answer")?;
    ensure!(
        status == StatusCode::OK,
        "the gallery page: HTTP {status}, wanted 200"
    );
    ensure!(
        page.contains(r#"<div id="root">"#),
        "the gallery page is not the app"
    );

    // The first admin, as an operator makes one (README): create-user in the admin-api
    // container, the password from the environment.
    let password = super::random_password()?;
    let admin_api = container("admin-api").await?;
    let out = run(
        60,
        "podman",
        &[
            "exec",
            "-e",
            "ADMIN_PASSWORD",
            &admin_api,
            "admin-api",
            "create-user",
            "--name",
            "Proof Admin",
            "--email",
            ADMIN_EMAIL,
        ],
        &[("ADMIN_PASSWORD", &password)],
    )
    .await?;
    if !out.status.success() {
        bail!(
            "admin-api create-user failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    log(format!(
        "admin-api create-user: id {}",
        String::from_utf8_lossy(&out.stdout).trim()
    ));

    let res = plain
        .post(format!("{web}/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": password}))
        .send()
        .await
        .context("sign-in: no answer")?;
    ensure!(
        res.status() == StatusCode::OK,
        "sign-in: HTTP {}, wanted 200",
        res.status()
    );
    let session = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with("shop_admin_session="))
        .context("sign-in set no session cookie")?
        .to_owned();
    let res = plain
        .post(format!("{web}/api/products"))
        .json(&json!({"title": "No", "image": "/x.png"}))
        .send()
        .await
        .context("a product without a session: no answer")?;
    ensure!(
        res.status() == StatusCode::UNAUTHORIZED,
        "a product without a session: HTTP {}, wanted 401",
        res.status()
    );

    // The happy path through the web server, the admin signed in.
    let mut client = ShopClient::new(web.clone(), web.clone(), None);
    client.http = http(Duration::from_secs(20), Some(&session))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let title = format!("Proof mug {now}");
    let path = happy_path(
        &client,
        &title,
        "https://example.com/mug.png",
        Duration::from_secs(60),
    )
    .await;
    let id = path.id;
    log(format!(
        "product {id}: created by the signed-in admin, listed by the shop, liked by a shopper \
         (a second like refused), counted by the catalogue (likes = 1), in the shopper's likes"
    ));

    prometheus(proof, &plain).await?;
    traces(proof, &plain).await?;
    dump(proof, &title).await?;
    database_away(proof, &plain).await?;
    graceful_stop(proof, &client, id).await
}

async fn prometheus(proof: &Proof, http: &reqwest::Client) -> Result<()> {
    proof.step("Prometheus (the container) scrapes every target up");
    let url = &proof.prometheus;
    let want: BTreeSet<String> = [
        "admin-api",
        "admin-consumer",
        "main-api",
        "main-consumer",
        "rabbitmq",
        "mysqld-exporter",
        "prometheus",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let last_said = std::sync::Mutex::new(String::new());
    eventually(
        Duration::from_secs(60),
        "Prometheus to see every target up",
        || async {
            let data = prometheus_api(http, url, "targets", &[("state", "active")])
                .await
                .ok()?;
            let targets = data["activeTargets"].as_array()?.clone();
            let job = |t: &Value| t["labels"]["job"].as_str().unwrap_or_default().to_owned();
            let jobs: BTreeSet<String> = targets.iter().map(job).collect();
            let up: BTreeSet<String> = targets
                .iter()
                .filter(|t| t["health"] == "up")
                .map(job)
                .collect();
            if jobs == want && up == want {
                return Some(());
            }
            let list = |s: BTreeSet<&String>| match s.is_empty() {
                true => "-".to_owned(),
                false => s.into_iter().cloned().collect::<Vec<_>>().join(", "),
            };
            let said = format!(
                "  not yet up: {} | unexpected: {}",
                list(want.difference(&up).collect()),
                list(jobs.difference(&want).collect())
            );
            let mut last = last_said.lock().unwrap_or_else(|e| e.into_inner());
            if *last != said {
                eprintln!("{said}");
                *last = said;
            }
            None
        },
    )
    .await;
    let mysql_up = prometheus_api(http, url, "query", &[("query", "mysql_up")])
        .await
        .map_err(anyhow::Error::msg)?;
    let ones = mysql_up["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["value"][1] == "1")
        .count();
    ensure!(ones > 0, "mysql_up is not 1: {mysql_up}");
    let rules = prometheus_api(http, url, "rules", &[])
        .await
        .map_err(anyhow::Error::msg)?;
    let loaded = rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .any(|r| r["name"] == "ShopTargetDown");
    ensure!(loaded, "the alert rules are not loaded");
    log(format!(
        "{} jobs up, mysql_up 1, alert rules loaded",
        want.len()
    ));
    Ok(())
}

/// The stand-in for Jaeger (`otlp-sink`, testkit's OTLP receiver) counts the spans of each
/// service (GET /stats on the UI's port).
async fn traces(proof: &Proof, http: &reqwest::Client) -> Result<()> {
    proof.step("traces: the four processes export OTLP to the trace backend's address");
    let url = format!("{}/stats", proof.jaeger);
    let stats = eventually(
        Duration::from_secs(60),
        "spans from every process at the trace backend",
        || async {
            let (status, body) = get(http, &url).await?;
            let stats: Value = serde_json::from_str(&body).ok()?;
            let all = PROCESSES
                .iter()
                .all(|p| stats["by_service"][p].as_u64().unwrap_or(0) > 0);
            (status == StatusCode::OK && all).then_some(body)
        },
    )
    .await;
    log(format!("spans received: {}", stats.trim()));
    Ok(())
}

async fn dump(proof: &Proof, title: &str) -> Result<()> {
    proof.step("operator: database dump (mariadb-dump in the mariadb container)");
    let mariadb = container("mariadb").await?;
    let out = run(
        120,
        "podman",
        &[
            "exec",
            &mariadb,
            "sh",
            "-c",
            r#"exec mariadb-dump -uroot -p"$MARIADB_ROOT_PASSWORD" --single-transaction --databases admin main"#,
        ],
        &[],
    )
    .await?;
    let backup = Proof::path("backup.sql");
    std::fs::write(&backup, &out.stdout)?;
    if !out.status.success() {
        bail!(
            "mariadb-dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ensure!(
        String::from_utf8_lossy(&out.stdout).contains(title),
        "the dump does not hold the product"
    );
    log(format!(
        "dump of admin and main: {} bytes",
        out.stdout.len()
    ));
    Ok(())
}

async fn database_away(proof: &Proof, http: &reqwest::Client) -> Result<()> {
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
async fn graceful_stop(proof: &Proof, client: &ShopClient, id: u64) -> Result<()> {
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
