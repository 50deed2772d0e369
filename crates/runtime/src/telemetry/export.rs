//! The way out for finished spans: a bounded queue between the spans' ends and one export
//! task, so that a slow, refusing or absent collector never slows or fails a request.
//!
//! Every span that ends is either exported (`otel_spans_exported_total`) or counted in
//! `otel_spans_dropped_total` with its reason, never lost silently:
//!
//! - ending a span only offers it to the queue (`try_send`: no lock held across an export,
//!   no wait); when the queue is full it is dropped, `reason="queue_full"`;
//! - a batch the collector refuses for good, or does not take within
//!   `OTEL_EXPORTER_OTLP_TIMEOUT` (retries included, [`super::http`]), is dropped,
//!   `reason="export_failed"`;
//! - spans still queued when the process stops are sent within the shutdown's limit; what
//!   is left then, and spans that end after it (a task that outlives the flush), are
//!   `reason="shutdown"`.
//!
//! The SDK's own batch processor drops spans the same way but only says so in its internal
//! log, so this one replaces it to make the loss visible in `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use super::config::Export;
use super::http::{HttpTransport, Refusal};
use crate::metrics::catalog::{NO_LABELS, OTEL_SPANS_DROPPED, OTEL_SPANS_EXPORTED};

enum Message {
    Span(Box<SpanData>),
    /// Export everything queued before this message, then answer.
    Flush(oneshot::Sender<()>),
}

/// How batches leave: our OTLP/HTTP transport, or the SDK's gRPC exporter (which retries
/// transient gRPC failures itself).
pub(super) enum Transport {
    Http(HttpTransport),
    Grpc(opentelemetry_otlp::SpanExporter),
}

impl Transport {
    async fn export(&self, spans: Vec<SpanData>) -> Result<(), String> {
        match self {
            Transport::Http(http) => http.export(spans).await.map(drop).map_err(|r| match r {
                Refusal::Transient { reason, .. } => reason,
                Refusal::Final(reason) => reason,
            }),
            Transport::Grpc(grpc) => grpc.export(spans).await.map_err(|e| e.to_string()),
        }
    }
}

/// Hands finished spans to the export task.
#[derive(Debug, Clone)]
pub(super) struct QueueProcessor {
    queue: mpsc::Sender<Message>,
    /// Set once the process has flushed for the last time.
    closed: Arc<AtomicBool>,
}

impl QueueProcessor {
    /// Starts the export task on the current Tokio runtime.
    pub(super) fn start(transport: Transport, export: &Export) -> Self {
        let (queue, rx) = mpsc::channel(export.max_queue);
        tokio::spawn(run(transport, rx, export.clone()));
        QueueProcessor {
            queue,
            closed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Exports every span ended so far; waits at most `limit`. Spans that end afterwards
    /// are counted as dropped (`shutdown`), as are those still queued when `limit` passes.
    pub(super) async fn flush(&self, limit: Duration) -> bool {
        let (done, wait) = oneshot::channel();
        let flushed = async {
            self.queue.send(Message::Flush(done)).await.ok()?;
            wait.await.ok()
        };
        let flushed = matches!(tokio::time::timeout(limit, flushed).await, Ok(Some(())));
        self.closed.store(true, Ordering::SeqCst);
        if !flushed {
            // What the export task did not reach in time stays behind.
            let left = self.queue.max_capacity() - self.queue.capacity();
            OTEL_SPANS_DROPPED.add(["shutdown"], left as u64);
        }
        flushed
    }
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.closed.load(Ordering::SeqCst) {
            OTEL_SPANS_DROPPED.increment(["shutdown"]);
            return;
        }
        match self.queue.try_send(Message::Span(Box::new(span))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => OTEL_SPANS_DROPPED.increment(["queue_full"]),
            Err(TrySendError::Closed(_)) => OTEL_SPANS_DROPPED.increment(["shutdown"]),
        }
    }

    /// The SDK's synchronous flush cannot wait on the task from inside the runtime; the
    /// process flushes through [`super::shutdown`] instead.
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    /// Nothing to stop here: the process flushes through [`super::shutdown`].
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Collects spans into batches of at most `max_batch`, each sent when full or `delay` after
/// its first span, one export at a time.
async fn run(transport: Transport, mut rx: mpsc::Receiver<Message>, export: Export) {
    let mut batch = Vec::with_capacity(export.max_batch);
    let mut warned: Option<Instant> = None;
    while let Some(first) = rx.recv().await {
        let mut flushed = None;
        match first {
            Message::Span(span) => batch.push(*span),
            Message::Flush(done) => flushed = Some(done),
        }
        let deadline = tokio::time::Instant::now() + export.delay;
        while flushed.is_none() && batch.len() < export.max_batch {
            tokio::select! {
                next = rx.recv() => match next {
                    Some(Message::Span(span)) => batch.push(*span),
                    Some(Message::Flush(done)) => flushed = Some(done),
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        // A flush exports everything queued before it, in as many batches as it takes.
        loop {
            if !batch.is_empty() {
                send(&transport, &mut batch, &export, &mut warned).await;
            }
            if flushed.is_none() {
                break;
            }
            while batch.len() < export.max_batch {
                match rx.try_recv() {
                    Ok(Message::Span(span)) => batch.push(*span),
                    Ok(Message::Flush(done)) => {
                        let _ = done.send(());
                    }
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                if let Some(done) = flushed.take() {
                    let _ = done.send(());
                }
                break;
            }
        }
    }
}

async fn send(
    transport: &Transport,
    batch: &mut Vec<SpanData>,
    export: &Export,
    warned: &mut Option<Instant>,
) {
    let spans = std::mem::replace(batch, Vec::with_capacity(export.max_batch));
    let count = spans.len() as u64;
    // Bounded twice: the HTTP transport keeps to the timeout itself, retries included; the
    // margin only guards against an exporter that would not.
    let limit = export.timeout + Duration::from_secs(1);
    let failure = match tokio::time::timeout(limit, transport.export(spans)).await {
        Ok(Ok(())) => {
            OTEL_SPANS_EXPORTED.add(NO_LABELS, count);
            return;
        }
        Ok(Err(e)) => e,
        Err(_) => format!("no answer within {} ms", limit.as_millis()),
    };
    OTEL_SPANS_DROPPED.add(["export_failed"], count);
    // One line when the collector first fails, then at most one every ten minutes: the
    // count is in `/metrics`, and a collector that is down must not flood the log.
    if warned.is_none_or(|at| at.elapsed() >= Duration::from_secs(600)) {
        *warned = Some(Instant::now());
        tracing::warn!(
            endpoint = %export.endpoint,
            error = %failure,
            spans = count,
            "cannot export spans; dropping them (counted in otel_spans_dropped_total)"
        );
    }
}
