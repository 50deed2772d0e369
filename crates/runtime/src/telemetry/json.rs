//! JSON log lines that name the trace and span they were written in.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Json, Writer};
use tracing_subscriber::registry::LookupSpan;

/// tracing-subscriber's JSON line (with [`JsonFields`](tracing_subscriber::fmt::format::JsonFields) for span fields) (fields flattened, the current span's fields under
/// `span`), with `trace_id` and `span_id` first when the line was written inside a span.
pub(super) struct WithTraceIds {
    inner: format::Format<Json>,
}

impl WithTraceIds {
    pub(super) fn new() -> Self {
        WithTraceIds {
            inner: format::format()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_target(false),
        }
    }
}

impl<S, N> FormatEvent<S, N> for WithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        // The subscriber's current span, not this layer's: spans that `RUST_LOG` hides from
        // the log lines still name the trace a line belongs to.
        let ids = tracing::Span::current().id().and_then(|id| {
            tracing::dispatcher::get_default(|dispatch| {
                tracing_opentelemetry::get_otel_context(&id, dispatch)
            })
        });
        let ids = ids.and_then(|cx| {
            let span = cx.span();
            let sc = span.span_context();
            sc.is_valid()
                .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
        });
        match (ids, line.strip_prefix('{')) {
            (Some((trace_id, span_id)), Some(rest)) => write!(
                writer,
                r#"{{"trace_id":"{trace_id}","span_id":"{span_id}",{rest}"#
            ),
            _ => writer.write_str(&line),
        }
    }
}
