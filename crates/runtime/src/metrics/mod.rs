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
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let elapsed = start.elapsed().as_secs_f64();
    match SERIES.with_borrow_mut(|series| series.get(&method, route, status)) {
        Some((requests, duration)) => {
            requests.increment(1);
            duration.record(elapsed);
        }
        None => {
            let labels = [
                method.as_str().to_owned(),
                route.to_owned(),
                status.to_string(),
            ];
            catalog::HTTP_REQUESTS.increment(labels.clone());
            catalog::HTTP_REQUEST_DURATION.record(labels, elapsed);
        }
    }
    response
}

thread_local! {
    /// This thread's handles on the request series it has recorded: a request's series is
    /// looked up without building its labels (six strings and two label lists a request,
    /// and a hash of them in the recorder, before this cache). The recorder is installed
    /// before any request ([`crate::http::with_middleware`]), so no handle kept here is a
    /// no-op one.
    static SERIES: std::cell::RefCell<RequestSeries> = std::cell::RefCell::default();
}

/// The handles of `http_requests_total` and `http_request_duration_seconds`, by route,
/// then method and status. Bounded: routes are the router's patterns, statuses three
/// digits, and only the standard methods are kept (another method takes the labelled path).
#[derive(Default)]
struct RequestSeries(
    std::collections::HashMap<Box<str>, Vec<(axum::http::Method, u16, SeriesHandles)>>,
);

type SeriesHandles = (metrics::Counter, metrics::Histogram);

impl RequestSeries {
    fn get(
        &mut self,
        method: &axum::http::Method,
        route: &str,
        status: u16,
    ) -> Option<SeriesHandles> {
        use axum::http::Method;
        const STANDARD: [Method; 9] = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
            Method::CONNECT,
            Method::TRACE,
        ];
        if let Some(known) = self.0.get(route)
            && let Some((_, _, handles)) =
                known.iter().find(|(m, s, _)| m == method && *s == status)
        {
            return Some(handles.clone());
        }
        if !STANDARD.contains(method) {
            return None;
        }
        let labels = [
            method.as_str().to_owned(),
            route.to_owned(),
            status.to_string(),
        ];
        let requests = catalog::HTTP_REQUESTS.handle(labels.clone());
        let duration = catalog::HTTP_REQUEST_DURATION.handle(labels);
        let handles = (requests, duration);
        self.0
            .entry(route.into())
            .or_default()
            .push((method.clone(), status, handles.clone()));
        Some(handles)
    }
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

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Method, Request};
    use axum::routing::get;
    use tower::ServiceExt;

    /// The samples of `http_requests_total` for `route`, as `/metrics` shows them.
    fn requests(route: &str) -> Vec<String> {
        let text = super::handle().render();
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains(route))
            .map(str::to_owned)
            .collect()
    }

    #[tokio::test]
    async fn every_request_is_counted_once_its_series_is_known() {
        // As `with_middleware` does: a handle taken before the recorder exists records nothing.
        super::handle();
        let app = Router::new()
            .route(
                "/counted-here",
                get(|| async { "ok" }).post(|| async { "ok" }),
            )
            .layer(axum::middleware::from_fn(super::track_http));
        let send = |method: Method| {
            let request = Request::builder()
                .method(method)
                .uri("/counted-here")
                .body(Body::empty())
                .unwrap_or_default();
            app.clone().oneshot(request)
        };
        // Three through the per-thread handles after the first, a second series beside it,
        // and a method outside the standard set through the labelled path.
        for _ in 0..4 {
            assert!(send(Method::GET).await.is_ok());
        }
        assert!(send(Method::POST).await.is_ok());
        let odd = Method::from_bytes(b"PROPFIND").unwrap_or(Method::GET);
        assert!(send(odd).await.is_ok());
        let mut seen = requests("route=\"/counted-here\"");
        seen.sort();
        assert_eq!(
            seen,
            [
                r#"http_requests_total{method="GET",route="/counted-here",status="200"} 4"#,
                r#"http_requests_total{method="POST",route="/counted-here",status="200"} 1"#,
                r#"http_requests_total{method="PROPFIND",route="/counted-here",status="405"} 1"#,
            ]
        );
    }
}
