//! The way out for finished spans: a bounded queue between the spans' ends and one export
//! task, so that a slow, refusing or absent collector never slows or fails a request.
//!
//! Ending a span only offers it to the queue (`try_send`: no lock held across an export, no
//! wait). When the queue is full the span is dropped and counted in
//! `otel_spans_dropped_total{reason="queue_full"}`; a batch the collector refuses or does
//! not answer within `OTEL_EXPORTER_OTLP_TIMEOUT` is counted with `reason="export_failed"`.
//! The SDK's own batch processor drops spans the same way but only says so in its internal
//! log, so this one replaces it to make the loss visible in `/metrics`.

use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use tokio::sync::{mpsc, oneshot};

use super::config::Export;
use crate::metrics::catalog::{NO_LABELS, OTEL_SPANS_DROPPED, OTEL_SPANS_EXPORTED};

enum Message {
    Span(Box<SpanData>),
    /// Export everything queued before this message, then answer.
    Flush(oneshot::Sender<()>),
}

/// Hands finished spans to the export task.
#[derive(Debug, Clone)]
pub(super) struct QueueProcessor {
    queue: mpsc::Sender<Message>,
}

impl QueueProcessor {
    /// Starts the export task on the current Tokio runtime.
    pub(super) fn start<E: SpanExporter + 'static>(exporter: E, export: &Export) -> Self {
        let (queue, rx) = mpsc::channel(export.max_queue);
        tokio::spawn(run(exporter, rx, export.clone()));
        QueueProcessor { queue }
    }

    /// Exports every span ended so far; waits at most `limit`.
    pub(super) async fn flush(&self, limit: Duration) -> bool {
        let (done, wait) = oneshot::channel();
        let flushed = async {
            self.queue.send(Message::Flush(done)).await.ok()?;
            wait.await.ok()
        };
        matches!(tokio::time::timeout(limit, flushed).await, Ok(Some(())))
    }
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.queue.try_send(Message::Span(Box::new(span))).is_err() {
            OTEL_SPANS_DROPPED.increment(["queue_full"]);
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
/// its first span, one export at a time, each bounded by `timeout`.
async fn run<E: SpanExporter>(exporter: E, mut rx: mpsc::Receiver<Message>, export: Export) {
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
                send(&exporter, &mut batch, &export, &mut warned).await;
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

async fn send<E: SpanExporter>(
    exporter: &E,
    batch: &mut Vec<SpanData>,
    export: &Export,
    warned: &mut Option<Instant>,
) {
    let spans = std::mem::replace(batch, Vec::with_capacity(export.max_batch));
    let count = spans.len() as u64;
    let failure = match tokio::time::timeout(export.timeout, exporter.export(spans)).await {
        Ok(Ok(())) => {
            OTEL_SPANS_EXPORTED.add(NO_LABELS, count);
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} ms", export.timeout.as_millis()),
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
