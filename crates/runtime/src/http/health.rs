//! The probes every process serves:
//!
//! - `/alive`: the process runs and answers (restart it when this fails);
//! - `/ready`: it can do its work (send it work only while this passes). An API is ready
//!   while its database answers: with the broker away, writes still commit into the outbox
//!   and the relay publishes them when it is back, so a broker outage must not take every
//!   replica out of service. A consumer is ready while its database answers and its broker
//!   connection is up: it takes no work otherwise;
//! - the original's health route (`/api/health`, `/flask/api/health`, a consumer's
//!   `/health`): 200 only when the database answers and the broker is connected, as it
//!   always was.
//!
//! Every answer but `/alive`'s is the same report: each dependency up or down, what failed,
//! and the configuration warnings.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::MySqlPool;

use crate::amqp::BrokerStatus;

/// What the readiness check looks at. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Probes {
    pub pool: MySqlPool,
    /// The process's long-lived broker connection: the relay's, or the consumer's.
    pub broker: BrokerStatus,
    /// Configuration an operator should know is unsafe, shown in every readiness answer.
    pub warnings: Arc<[&'static str]>,
    /// Whether `/ready` needs the broker too (a consumer), or the database alone (an API).
    pub ready_needs_broker: bool,
}

#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub status: &'static str,
    pub database: &'static str,
    pub broker: &'static str,
    /// Names of the failed dependencies, with a short reason each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Configuration an operator should know is unsafe (`ADMIN_AUTH=disabled`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub warnings: Vec<&'static str>,
}

/// `/alive`: 200 `{"status":"alive"}` whenever the process answers at all.
pub async fn alive() -> Response {
    Json(serde_json::json!({"status": "alive"})).into_response()
}

/// `/ready`: 200 when the process can do its work (the database answers, and for a
/// consumer the broker is connected), 503 naming what failed.
pub async fn ready(State(probes): State<Probes>) -> Response {
    let report = check(&probes).await;
    let ready = report.database == "up" && (report.broker == "up" || !probes.ready_needs_broker);
    report.answer(ready)
}

/// The original's health route: 200 when the database answers and the broker is connected,
/// 503 naming what failed.
pub async fn health(State(probes): State<Probes>) -> Response {
    let report = check(&probes).await;
    let ok = report.errors.is_empty();
    report.answer(ok)
}

/// The probe routes: `/alive`, `/ready`, and the original's health route at `health_path`.
pub fn routes(health_path: &str) -> Router<Probes> {
    Router::new()
        .route("/alive", get(alive))
        .route("/ready", get(ready))
        .route(health_path, get(health))
}

/// What the database and the broker say now.
pub async fn check(probes: &Probes) -> HealthReport {
    let mut errors = Vec::new();
    let database = match crate::db::ping(&probes.pool, Duration::from_secs(2)).await {
        Ok(()) => "up",
        Err(e) => {
            tracing::warn!(error = %e, "health: database down");
            errors.push("database: not reachable".to_owned());
            "down"
        }
    };
    let broker = if probes.broker.is_connected() {
        "up"
    } else {
        errors.push("broker: not connected".to_owned());
        "down"
    };
    HealthReport {
        status: "ok",
        database,
        broker,
        errors,
        warnings: probes.warnings.to_vec(),
    }
}

impl HealthReport {
    /// The report as an answer: 200 when `ok` (`"status":"ok"`, or `"degraded"` when
    /// something it can do without is down), else 503 `"unavailable"`.
    fn answer(mut self, ok: bool) -> Response {
        let code = if ok {
            if !self.errors.is_empty() {
                self.status = "degraded";
            }
            StatusCode::OK
        } else {
            self.status = "unavailable";
            StatusCode::SERVICE_UNAVAILABLE
        };
        (code, Json(self)).into_response()
    }
}
