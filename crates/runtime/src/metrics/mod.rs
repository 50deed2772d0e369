//! Prometheus metrics: one recorder per process, rendered at `GET /metrics`. What each
//! metric is (name, type, labels, help) is defined once, in [`catalog`].

pub mod catalog;
pub mod family;
pub mod process;

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

/// Batch sizes (`*_batch_size`: main-api's likes per group commit).
const BATCH_SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The exporter as every process configures it: latency families (`_seconds`) are
/// histograms with [`LATENCY_BUCKETS`], batch sizes (`_batch_size`) with
/// [`BATCH_SIZE_BUCKETS`].
fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), BATCH_SIZE_BUCKETS)
        })
        .unwrap_or_else(|_| PrometheusBuilder::new())
}

/// Installs the process-wide recorder on first use and returns its handle.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = match builder().install_recorder() {
                Ok(h) => h,
                // Another recorder is installed already (never in our binaries): render an
                // unregistered one rather than fail.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            catalog::describe_all();
            catalog::start_at_zero();
            process::mark_start();
            handle
        })
        .clone()
}

/// Counts and times every request. Routes are labelled by their pattern
/// (`/api/products/{id}`), never by the raw path, so ids do not explode the label set.
pub async fn track_http(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_label(&req);
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let labels = [method, route, response.status().as_u16().to_string()];
    catalog::HTTP_REQUESTS.increment(labels.clone());
    catalog::HTTP_REQUEST_DURATION.record(labels, start.elapsed().as_secs_f64());
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
    catalog::DB_POOL_CONNECTIONS.set(["idle"], idle);
    catalog::DB_POOL_CONNECTIONS.set(["in_use"], (size - idle).max(0.0));
    catalog::DB_POOL_CONNECTIONS.set(["max"], f64::from(pool.options().get_max_connections()));
}

/// The `/metrics` response in Prometheus text format.
pub fn render(pool: &MySqlPool) -> Response {
    record_pool(pool);
    let handle = handle();
    handle.run_upkeep();
    let mut text = handle.render();
    process::render(&mut text);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Counts one run of the purge of `table` (`purges_total`) and the rows it deleted
/// (`purged_rows_total`).
pub fn purged<E>(table: &'static str, outcome: &Result<u64, E>) {
    match outcome {
        Ok(rows) => {
            catalog::PURGES.increment([table, "ok"]);
            catalog::PURGED_ROWS.add([table], *rows);
        }
        Err(_) => catalog::PURGES.increment([table, "failed"]),
    }
}
