//! Alerts that reach a person, as real processes: Debian's `prometheus-alertmanager` with a
//! configuration of the test's own, and a webhook receiver (an HTTP listener, as a pager's or
//! a chat's webhook endpoint is) that keeps every notification Alertmanager sends it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::Value;
use tokio::process::Child;

use crate::free_port;
use crate::monitoring::{ScratchDir, program, spawn_listening};

/// One notification: the path it was posted to (the receiver's name, by this module's
/// convention), when, and Alertmanager's webhook payload (`receiver`, `status`, `alerts`
/// with their `labels`, `annotations` and `status`, `groupLabels`, …).
#[derive(Debug, Clone)]
pub struct Notification {
    pub path: String,
    pub at: Instant,
    pub body: Value,
}

impl Notification {
    /// The alerts of the notification as (alertname, status, labels).
    pub fn alerts(&self) -> Vec<(String, String, Value)> {
        self.body["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap_or("").to_owned(),
                    a["status"].as_str().unwrap_or("").to_owned(),
                    a["labels"].clone(),
                )
            })
            .collect()
    }
}

type Received = Arc<Mutex<Vec<Notification>>>;

/// A webhook receiver on a free loopback port: `POST /<name>` with a JSON body is kept.
/// Stops when dropped.
pub struct WebhookReceiver {
    pub port: u16,
    received: Received,
    server: tokio::task::JoinHandle<()>,
}

async fn receive(
    State(received): State<Received>,
    Path(path): Path<String>,
    Json(body): Json<Value>,
) -> &'static str {
    received.lock().unwrap().push(Notification {
        path,
        at: Instant::now(),
        body,
    });
    "ok"
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Received = Arc::default();
        let app = Router::new()
            .route("/{name}", post(receive))
            .with_state(received.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookReceiver {
            port,
            received,
            server,
        }
    }

    /// The URL a receiver named `name` posts to.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Every notification so far, in order of arrival.
    pub fn received(&self) -> Vec<Notification> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Alertmanager with the given configuration on a free port, its storage in a directory of
/// its own, gossip (HA) off. Killed when dropped.
pub struct Alertmanager {
    pub url: String,
    pub port: u16,
    http: reqwest::Client,
    _child: Child,
    _dir: ScratchDir,
}

impl Alertmanager {
    pub async fn start(config: &str) -> Self {
        let bin = program("prometheus-alertmanager", "prometheus-alertmanager");
        let dir = ScratchDir::new("alertmanager");
        let config_file = dir.0.join("alertmanager.yml");
        std::fs::write(&config_file, config).unwrap();
        let port = free_port();
        let args = [
            format!("--config.file={}", config_file.display()),
            format!("--storage.path={}", dir.0.join("data").display()),
            "--cluster.listen-address=".to_owned(),
        ];
        let child = spawn_listening(&bin, &args, port, "/-/ready").await;
        Alertmanager {
            url: format!("http://127.0.0.1:{port}"),
            port,
            http: reqwest::Client::new(),
            _child: child,
            _dir: dir,
        }
    }

    /// `GET /api/v2/alerts`: every alert Alertmanager holds, with its `status.state`
    /// (`active`, `suppressed`) and `status.inhibitedBy`.
    pub async fn alerts(&self) -> Result<Vec<Value>, String> {
        let res = self
            .http
            .get(format!("{}/api/v2/alerts", self.url))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = res.json().await.map_err(|e| e.to_string())?;
        body.as_array()
            .cloned()
            .ok_or_else(|| format!("not a list: {body}"))
    }
}
