//! The middleware every API and probe server runs, assembled once by [`with_middleware`]:
//! limits on the request's head and body, the server span, metrics, JSON error bodies,
//! `nosniff`, cross-site refusal and CORS, and each request run to completion.

use std::any::Any;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tracing::Instrument;

use crate::problem::{ErrorBody, error, internal_error, not_found, payload_too_large};
use crate::settings::AllowedOrigins;

/// How long a request's body may take to arrive, between its chunks.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The largest request body accepted (docs/contract.md, "Rules the API enforces"): 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The largest request head accepted: its headers together, and its URI.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Refuses oversized heads with the JSON error shape (`431`, `414`): nginx's own limits
/// are 8 KiB per header line; a client reaching an API directly meets these. (Past hyper's
/// own buffer, about 400 KiB, hyper answers `431` itself, without a body.)
async fn limit_head(req: Request, next: Next) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request headers too large",
        );
    }
    // The URI's length as written, without writing it out.
    let uri = req.uri();
    let uri_bytes = uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return error(StatusCode::URI_TOO_LONG, "URI too long");
    }
    next.run(req).await
}

/// Rejects a declared body over the limit before reading it, on every route.
async fn limit_declared_length(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return payload_too_large();
    }
    next.run(req).await
}

/// Every error answer has the JSON error shape: one that is not JSON (axum's `405`, a
/// library's plain-text rejection) gets `{"error": "<the status's reason>"}`, with its other
/// headers (`Allow`, `Retry-After`) kept.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = ErrorBody {
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    (parts, Json(body)).into_response()
}

/// `X-Content-Type-Options: nosniff` on every answer: a browser never runs an API's JSON (or
/// an error text) as a script or a page.
async fn nosniff(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(axum::http::HeaderValue::from_static("nosniff"));
    response
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    internal_error()
}

/// Runs the rest of the request (extractors, handler, its database work) in a task of its
/// own, so that a client hanging up cannot cancel it.
///
/// hyper drops a request's future when the client disconnects. A sqlx future dropped half
/// way leaves its connection in a state nobody tracks: a transaction open on the server
/// (when `BEGIN` was sent but its answer not read), or a reply the connection waits for
/// forever (when a query was registered but not sent), which leaks the pool slot for good.
/// Detached, every request's work ends the way it would have with the client still there:
/// committed, or rolled back by its own error path; only the answer is lost. Requests whose
/// client left first are counted in `http_requests_abandoned_total`.
async fn run_to_completion(req: Request, next: Next) -> Response {
    let mut abandoned = AbandonedGuard::new(&req);
    let work = tokio::spawn(next.run(req).instrument(tracing::Span::current()));
    let result = work.await;
    abandoned.disarm();
    match result {
        Ok(response) => response,
        Err(e) => {
            if e.is_panic() {
                tracing::error!("handler panicked");
            }
            internal_error()
        }
    }
}

/// Counts a request whose caller dropped it before its task answered. It keeps the method
/// and matched route (cheap clones) and builds the label strings only for a hang-up, so the
/// requests that are answered, nearly all of them, pay no allocation for it.
struct AbandonedGuard {
    request: Option<(Method, Option<MatchedPath>)>,
}

impl AbandonedGuard {
    fn new(req: &Request) -> Self {
        AbandonedGuard {
            request: Some((
                req.method().clone(),
                req.extensions().get::<MatchedPath>().cloned(),
            )),
        }
    }

    fn disarm(&mut self) {
        self.request = None;
    }
}

impl Drop for AbandonedGuard {
    fn drop(&mut self) {
        if let Some((method, route)) = self.request.take() {
            let route = route.map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
            crate::metrics::catalog::HTTP_REQUESTS_ABANDONED
                .increment([method.as_str().to_owned(), route]);
        }
    }
}

/// Wraps a service's routes with the shared middleware: state changes from other sites
/// refused and CORS for `allowed` ([`super::origin`]), metrics, the server span and trace
/// context, the body limit, a JSON 404 fallback, a JSON 500 on panic, and each request run
/// to completion even when its client hangs up (`run_to_completion`).
pub fn with_middleware(router: Router, allowed: &AllowedOrigins) -> Router {
    // Metrics recorded before the recorder exists are lost: install it before any request.
    crate::metrics::handle();
    let mut router = router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            allowed.clone(),
            super::origin::refuse_cross_site,
        ));
    if let Some(cors) = super::origin::cors(allowed) {
        router = router.layer(cors);
    }
    router
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(nosniff))
        .layer(middleware::from_fn(crate::metrics::track_http))
        .layer(middleware::from_fn(run_to_completion))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // A body that stops arriving ends the request instead of holding it open.
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(middleware::from_fn(limit_declared_length))
        .layer(middleware::from_fn(limit_head))
        .layer(middleware::from_fn(super::trace::server_span))
        .layer(CatchPanicLayer::custom(panic_response))
}
