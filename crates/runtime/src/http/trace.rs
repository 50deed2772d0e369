//! A request's place in its trace: the server span every request runs in, continuing the
//! caller's `traceparent`, and the trace context handlers give the events they enqueue.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use events::TraceContext;
use tracing::Instrument;

/// The trace context of the current request: its server span's. Events the request
/// enqueues carry it, so the relay's producer span, however much later it runs, is a child
/// of the request. With tracing off (`OTEL_SDK_DISABLED`) it is a child of the caller's
/// valid `traceparent`, or a new root.
#[derive(Debug, Clone)]
pub struct RequestTrace(pub TraceContext);

impl RequestTrace {
    /// `event`, encoded for the outbox, with this request's trace context.
    pub fn message(&self, event: &events::Event) -> events::OutgoingMessage {
        events::OutgoingMessage::new(event, Some(self.0.clone()))
    }
}

/// The caller's trace context; an absent or invalid `traceparent` is no error, only no
/// parent.
fn trace_from_headers(headers: &HeaderMap) -> Option<TraceContext> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    TraceContext::new(get("traceparent")?, get("tracestate")).ok()
}

/// The request's server span (OpenTelemetry's HTTP conventions: named `METHOD route`, with
/// the method, route, path and status; an error status for a 5xx), continuing the caller's
/// trace when it sent a valid `traceparent`. No header, query string or body goes into it.
pub(super) async fn server_span(mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let name = match &route {
        Some(route) => format!("{method} {}", route.as_str()),
        None => method.to_string(),
    };
    let span = tracing::info_span!(
        "http",
        otel.name = name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = route.as_ref().map(MatchedPath::as_str),
        url.path = req.uri().path(),
        http.response.status_code = tracing::field::Empty,
    );
    let remote = trace_from_headers(req.headers());
    crate::telemetry::continue_from(&span, remote.as_ref());
    let trace = crate::telemetry::trace_of(&span)
        .or_else(|| remote.map(|caller| caller.child()))
        .unwrap_or_else(TraceContext::generate);
    req.extensions_mut().insert(RequestTrace(trace));
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}
