//! Between tracing's spans and W3C trace context (`traceparent`, `tracestate`), the form a
//! context takes on an HTTP request, in an outbox row and on an AMQP message.

use std::collections::HashMap;

use events::TraceContext;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C context of `span`; `None` when tracing is off (`OTEL_SDK_DISABLED`).
pub fn trace_of(span: &tracing::Span) -> Option<TraceContext> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    TraceContext::new(
        carrier.get("traceparent")?,
        carrier.get("tracestate").map(String::as_str),
    )
    .ok()
}

/// Makes `span` (not yet entered) a child of `parent`, a context that came from another
/// process. Without one, `span` stays the root of a new trace.
pub fn continue_from(span: &tracing::Span, parent: Option<&TraceContext>) {
    let Some(parent) = parent else { return };
    let mut carrier = HashMap::from([("traceparent".to_owned(), parent.traceparent().to_owned())]);
    if let Some(state) = parent.tracestate() {
        carrier.insert("tracestate".to_owned(), state.to_owned());
    }
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}
