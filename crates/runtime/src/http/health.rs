//! The probes every process serves: `/alive` (the process runs and answers), `/ready` (it
//! can do its work: the database answers and its broker connection is up), and the
//! original's health route, which answers what `/ready` does.
//!
//! Orchestrators restart a process whose `/alive` fails and stop sending it traffic while
//! its `/ready` fails; a database or broker outage therefore takes a process out of rotation
//! without restarting it (a restart would not bring the database back).

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

/// `/ready` (and the original's health route): 200 when the database answers and the broker
/// is connected, 503 naming what failed.
pub async fn ready(State(probes): State<Probes>) -> Response {
    check(&probes.pool, &probes.broker, &probes.warnings).await
}

/// The probe routes: `/alive`, `/ready`, and `health_path` (the original's, answering as
/// `/ready` does).
pub fn routes(health_path: &str) -> Router<Probes> {
    Router::new()
        .route("/alive", get(alive))
        .route("/ready", get(ready))
        .route(health_path, get(ready))
}

/// Checks both dependencies: 200 when both answer, 503 naming what failed.
pub async fn check(pool: &MySqlPool, broker: &BrokerStatus, warnings: &[&'static str]) -> Response {
    let mut errors = Vec::new();
    let database = match crate::db::ping(pool, Duration::from_secs(2)).await {
        Ok(()) => "up",
        Err(e) => {
            tracing::warn!(error = %e, "health: database down");
            errors.push("database: not reachable".to_owned());
            "down"
        }
    };
    let broker = if broker.is_connected() {
        "up"
    } else {
        errors.push("broker: not connected".to_owned());
        "down"
    };
    let ok = errors.is_empty();
    let report = HealthReport {
        status: if ok { "ok" } else { "unavailable" },
        database,
        broker,
        errors,
        warnings: warnings.to_vec(),
    };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}
