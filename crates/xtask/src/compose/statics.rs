//! What the proof cannot run, checked in the compose file as podman-compose renders it:
//! Grafana's provisioning (the data source's uid and URL, a compose service; the dashboard
//! provider's folder is where compose mounts the dashboards; every panel's data source) and
//! Jaeger's settings (OTLP on, the four processes exporting to it).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use super::PROCESSES;

fn yaml(path: impl AsRef<Path>) -> Result<Value> {
    let path = path.as_ref();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml_ng::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The service's bind mounts: where in the container → what on the host.
fn mounts(service: &Value) -> HashMap<String, String> {
    service["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|v| {
            let mut parts = v.split(':');
            let host = parts.next()?;
            let container = parts.next()?;
            Some((container.to_owned(), host.to_owned()))
        })
        .collect()
}

/// Every panel (nested ones too) and each of its targets names no data source or the
/// provisioned one.
fn check_datasources(file: &Path, panels: &Value) -> Result<()> {
    for panel in panels.as_array().into_iter().flatten() {
        let targets = panel["targets"].as_array().into_iter().flatten();
        for x in std::iter::once(panel).chain(targets) {
            ensure!(
                !x["datasource"].is_string(),
                "{}: panel {}: a data source by name",
                file.display(),
                panel["title"]
            );
            let uid = &x["datasource"]["uid"];
            ensure!(
                uid.is_null() || uid == "prometheus",
                "{}: panel {}: data source {uid}",
                file.display(),
                panel["title"]
            );
        }
        check_datasources(file, &panel["panels"])?;
    }
    Ok(())
}

pub fn check(config: &str) -> Result<()> {
    let cfg = yaml(config)?;
    let svc = &cfg["services"];
    let g = mounts(&svc["grafana"]);
    let prov = g
        .get("/etc/grafana/provisioning")
        .context("grafana mounts no provisioning")?;
    let dash = g
        .get("/var/lib/grafana/dashboards/shop")
        .context("grafana mounts no dashboards")?;

    let ds = yaml(format!("{prov}/datasources/prometheus.yml"))?;
    let ds = &ds["datasources"];
    let uids: Vec<&Value> = ds
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| &d["uid"])
        .collect();
    ensure!(uids == ["prometheus"], "data sources: {ds}");
    let url = ds[0]["url"].as_str().unwrap_or_default();
    ensure!(
        url == "http://prometheus:9090",
        "the data source's URL: {url}"
    );
    let providers = yaml(format!("{prov}/dashboards/shop.yml"))?;
    let providers = &providers["providers"];
    ensure!(
        providers[0]["options"]["path"] == "/var/lib/grafana/dashboards/shop",
        "the dashboard provider's folder: {providers}"
    );
    let mut files: Vec<_> = std::fs::read_dir(dash)
        .with_context(|| format!("reading {dash}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    ensure!(!files.is_empty(), "no dashboards");
    for f in &files {
        let board: Value = serde_json::from_str(&std::fs::read_to_string(f)?)
            .with_context(|| format!("parsing {}", f.display()))?;
        check_datasources(f, &board["panels"])?;
    }

    let j = &svc["jaeger"]["environment"];
    ensure!(j["COLLECTOR_OTLP_ENABLED"] == "true", "jaeger: {j}");
    for name in PROCESSES {
        ensure!(
            svc[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318",
            "{name} does not export to http://jaeger:4318"
        );
    }
    ensure!(
        svc["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy",
        "grafana does not wait for a healthy prometheus"
    );
    eprintln!(
        "  grafana: data source uid prometheus -> {url} (a compose service), dashboard provider \
         -> the mounted folder, {} dashboards parse",
        files.len()
    );
    eprintln!("  jaeger: OTLP enabled; the four processes export to http://jaeger:4318");
    Ok(())
}
