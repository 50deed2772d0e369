//! What the proof checks on the running stack, through its published ports only.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use testkit::monitoring::prometheus_api;
use testkit::{ShopClient, eventually, happy_path};

use super::podman::{container, run};
use super::{PROCESSES, Proof};
use crate::report::log;

const ADMIN_EMAIL: &str = "proof@example.com";

/// A client of the web server that gives up on an answer after `timeout`, sending `cookie`
/// (a session) on every request when given.
pub fn http(timeout: Duration, cookie: Option<&str>) -> Result<reqwest::Client> {
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
pub async fn until_status(
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

    // The first admin, as an operator makes one (docs/operating/compose.md): create-user in
    // the admin-api container, the password from the environment.
    let password = super::config::random_password()?;
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
    super::outages::database_away(proof, &plain).await?;
    super::outages::graceful_stop(proof, &client, id).await
}

async fn prometheus(proof: &Proof, http: &reqwest::Client) -> Result<()> {
    proof.step("Prometheus (the container) scrapes every target up");
    let url = &proof.prometheus;
    let want: BTreeSet<String> = [
        "admin-api",
        "admin-consumer",
        "main-api",
        "main-consumer",
        "catalogue-drift",
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
    // Prometheus sends its alerts to the alertmanager service (prometheus.yml's alerting).
    let sending = eventually(
        Duration::from_secs(60),
        "Prometheus to find the Alertmanager",
        || async {
            let data = prometheus_api(http, url, "alertmanagers", &[]).await.ok()?;
            let active = data["activeAlertmanagers"].as_array()?.clone();
            active
                .iter()
                .find_map(|a| a["url"].as_str().map(str::to_owned))
                .filter(|u| u.contains("alertmanager:9093"))
        },
    )
    .await;
    log(format!(
        "{} jobs up, mysql_up 1, alert rules loaded, alerts sent to {sending}",
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
