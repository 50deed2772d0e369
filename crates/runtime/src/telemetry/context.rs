//! Between tracing's spans and W3C trace context (`traceparent`, `tracestate`), the form a
//! context takes on an HTTP request, in an outbox row and on an AMQP message. Both ways go
//! through [`TraceContext`], which has already checked the header's form: no propagator and
//! no header map per request.

use events::TraceContext;
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C context of `span`; `None` when tracing is off (`OTEL_SDK_DISABLED`).
pub fn trace_of(span: &tracing::Span) -> Option<TraceContext> {
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    if !sc.is_valid() {
        return None;
    }
    let traceparent = format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    );
    let state = sc.trace_state().header();
    TraceContext::new(&traceparent, Some(state.as_str())).ok()
}

/// Makes `span` (not yet entered) a child of `parent`, a context that came from another
/// process. Without one, `span` stays the root of a new trace.
pub fn continue_from(span: &tracing::Span, parent: Option<&TraceContext>) {
    let Some(parent) = parent.and_then(remote) else {
        return;
    };
    let _ = span.set_parent(Context::new().with_remote_span_context(parent));
}

/// `parent` as OpenTelemetry's remote span context; `None` if it does not parse (a state
/// that is not a valid W3C list is dropped, never the parent).
fn remote(parent: &TraceContext) -> Option<SpanContext> {
    let tp = parent.traceparent();
    let trace_id = TraceId::from_hex(tp.get(3..35)?).ok()?;
    let span_id = SpanId::from_hex(tp.get(36..52)?).ok()?;
    let flags = u8::from_str_radix(tp.get(53..55)?, 16).ok()?;
    let state = parent
        .tracestate()
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    let sc = SpanContext::new(trace_id, span_id, TraceFlags::new(flags), true, state);
    sc.is_valid().then_some(sc)
}
