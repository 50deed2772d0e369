//! What a health endpoint reports: is the database reachable, is the broker connected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sqlx::MySqlPool;

/// Whether this process's long-lived broker connection is up; set by its owner (the outbox
/// relay or the consumer), read by the health endpoint and shown as
/// `amqp_connected{component}`.
#[derive(Debug, Clone)]
pub struct BrokerStatus {
    connected: Arc<AtomicBool>,
    component: &'static str,
}

impl BrokerStatus {
    /// Not connected yet; `component` (`relay`, `consumer`) labels the gauge.
    pub fn new(component: &'static str) -> Self {
        let status = BrokerStatus {
            connected: Arc::default(),
            component,
        };
        status.set(false);
        status
    }

    pub fn set(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
        crate::metrics::catalog::AMQP_CONNECTED
            .set([self.component], f64::from(u8::from(connected)));
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
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
