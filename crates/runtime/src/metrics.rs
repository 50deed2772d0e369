//! Prometheus metrics: one recorder per process, rendered at `GET /metrics`.
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `http_requests_total` | counter | `method`, `route`, `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `events_published_total` | counter | `event` |
//! | `events_publish_failures_total` | counter | `reason` (`unroutable`, `nack`, `broker`) |
//! | `outbox_pending_messages` | gauge | |
//! | `outbox_delivery_lag_seconds` | histogram | |
//! | `amqp_connect_failures_total` | counter | `component` |
//! | `http_requests_abandoned_total` | counter | `method`, `route` |
//! | `db_pool_connections` | gauge | `state` (`idle`, `in_use`, `max`) |
//! | `db_transactions_rolled_back_total` | counter | `reason` (`abandoned`) |
//! | `db_connections_discarded_total` | counter | `reason` (`error`, `unresponsive`) |

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::MySqlPool;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder on first use and returns its handle.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let handle = match builder.install_recorder() {
                Ok(h) => h,
                // Another recorder is installed already (never in our binaries): render an
                // unregistered one rather than fail.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by route, method and status."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route, method and status."
    );
    describe_counter!(
        "events_published_total",
        "Events the broker confirmed, by event type."
    );
    describe_counter!(
        "events_publish_failures_total",
        "Publishes the broker did not confirm (they are retried), by reason."
    );
    describe_gauge!(
        "outbox_pending_messages",
        "Outbox rows waiting to be published."
    );
    describe_histogram!(
        "outbox_delivery_lag_seconds",
        Unit::Seconds,
        "Time from an event's commit to the broker's confirm."
    );
    describe_counter!(
        "amqp_connect_failures_total",
        "Failed attempts to connect to the broker."
    );
    describe_counter!(
        "http_requests_abandoned_total",
        "Requests whose client hung up before the answer; their work still ran to its end."
    );
    describe_gauge!(
        "db_pool_connections",
        "Database pool connections by state (idle, in_use, max)."
    );
    describe_counter!(
        "db_transactions_rolled_back_total",
        "Transactions found open on a connection returned to the pool (work cancelled half way) and rolled back there."
    );
    describe_counter!(
        "db_connections_discarded_total",
        "Connections closed instead of returned to the pool because they failed or did not answer the release check."
    );
}

/// Counts and times every request. Routes are labelled by their pattern
/// (`/api/products/{id}`), never by the raw path, so ids do not explode the label set.
pub async fn track_http(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_label(&req);
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

/// The `route` label of a request: its route pattern, or `unmatched`.
pub fn route_label(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

/// Records the pool's state; call before rendering.
pub fn record_pool(pool: &MySqlPool) {
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set((size - idle).max(0.0));
    metrics::gauge!("db_pool_connections", "state" => "max")
        .set(f64::from(pool.options().get_max_connections()));
}

/// The `/metrics` response in Prometheus text format.
pub fn render(pool: &MySqlPool) -> Response {
    record_pool(pool);
    let handle = handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
