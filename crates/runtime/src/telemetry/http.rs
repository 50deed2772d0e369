//! OTLP/HTTP export of a batch, with the OTLP specification's retries: a transient failure
//! (the connection refused, reset or closed before the answer, no answer in time, `429`,
//! `502`, `503`, `504`) is retried with exponential backoff and jitter, honouring
//! `Retry-After`, until the batch's time (`OTEL_EXPORTER_OTLP_TIMEOUT`) is spent; any other
//! answer (`400`, `413`, …) is final. The body is encoded once and sent again as it is.
//!
//! Written here rather than taken from `opentelemetry-otlp` so that every outcome is ours
//! to count and to test: its client gave up a batch on a pooled connection the collector
//! had closed (the collector's server closes idle keep-alive connections; a collector that
//! restarts closes them all), and hid the status and `Retry-After` of a refusal.
//! Connections idle longer than [`POOL_IDLE`] are not reused.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;
use tokio::time::Instant;

/// Pooled connections idle this long are closed rather than reused: shorter than the idle
/// timeouts collectors and proxies close them after (a minute and more), so that a request
/// rarely meets a connection the other side is closing.
pub(super) const POOL_IDLE: Duration = Duration::from_secs(20);
/// The first retry's delay; each next one doubles, up to [`MAX_BACKOFF`], with jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Why a batch was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Worth another try: the collector or the network may be back soon.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The collector will never take this batch.
    Final(String),
}

/// The OTLP/HTTP transport: an endpoint, an encoding, a pooled HTTP/1.1 client.
pub(super) struct HttpTransport {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoint: Uri,
    json: bool,
    resource: ResourceAttributesWithSchema,
    /// The time a batch may take, retries included.
    timeout: Duration,
}

impl HttpTransport {
    pub(super) fn new(
        endpoint: &str,
        json: bool,
        timeout: Duration,
        resource: &Resource,
    ) -> Result<Self, String> {
        let endpoint: Uri = endpoint.parse().map_err(|e| format!("{e}"))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .build(connector);
        Ok(HttpTransport {
            client,
            endpoint,
            json,
            resource: resource.into(),
            timeout,
        })
    }

    /// Sends `spans` until the collector takes them, a refusal is final, or the batch's time
    /// is spent. Returns how many retries it took, or the last refusal.
    pub(super) async fn export(&self, spans: Vec<SpanData>) -> Result<u32, Refusal> {
        let body = self.encode(spans).map_err(Refusal::Final)?;
        let deadline = Instant::now() + self.timeout;
        let mut backoff = FIRST_BACKOFF;
        let mut retries = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let refusal = match tokio::time::timeout(left, self.send_once(body.clone())).await {
                Ok(Ok(())) => return Ok(retries),
                Ok(Err(refusal)) => refusal,
                Err(_) => Refusal::Transient {
                    reason: format!("no answer within {} ms", self.timeout.as_millis()),
                    retry_after: None,
                },
            };
            let Refusal::Transient { retry_after, .. } = &refusal else {
                return Err(refusal);
            };
            let wait = retry_after.unwrap_or_else(|| jittered(backoff));
            if Instant::now() + wait >= deadline {
                return Err(refusal);
            }
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            retries += 1;
        }
    }

    fn encode(&self, spans: Vec<SpanData>) -> Result<Bytes, String> {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans, &self.resource),
        };
        if self.json {
            serde_json::to_vec(&request)
                .map(Bytes::from)
                .map_err(|e| format!("cannot encode the spans as JSON: {e}"))
        } else {
            Ok(Bytes::from(request.encode_to_vec()))
        }
    }

    async fn send_once(&self, body: Bytes) -> Result<(), Refusal> {
        let content_type = if self.json {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        let request = Request::post(self.endpoint.clone())
            .header(CONTENT_TYPE, content_type)
            .body(Full::new(body))
            .map_err(|e| Refusal::Final(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Refusal::Transient {
                reason: connection_error(&e),
                retry_after: None,
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // The body is read whole so that the connection can be used again.
        let _ = response.into_body().collect().await;
        classify(status, retry_after)
    }
}

/// What the specification makes of an answer: `2xx` taken; `429`, `502`, `503`, `504`
/// transient (with the server's `Retry-After`, if any); anything else final.
pub(super) fn classify(status: StatusCode, retry_after: Option<Duration>) -> Result<(), Refusal> {
    match status.as_u16() {
        200..=299 => Ok(()),
        429 | 502 | 503 | 504 => Err(Refusal::Transient {
            reason: format!("collector answered {status}"),
            retry_after,
        }),
        _ => Err(Refusal::Final(format!("collector answered {status}"))),
    }
}

/// The error's chain, which says refused, reset or closed.
fn connection_error(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `delay` give or take a quarter, so that processes that failed together do not all come
/// back at the same instant.
fn jittered(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let quarter = delay / 4;
    let spread = u64::from(nanos) % (quarter.as_millis() as u64 * 2 + 1);
    delay - quarter + Duration::from_millis(spread)
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(name: &'static str) -> SpanData {
        let context = SpanContext::new(
            TraceId::from_bytes([7; 16]),
            SpanId::from_bytes([9; 8]),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        SpanData {
            span_context: context,
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: name.into(),
            start_time: std::time::SystemTime::now(),
            end_time: std::time::SystemTime::now(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: Default::default(),
        }
    }

    fn transport(endpoint: &str, json: bool) -> HttpTransport {
        let resource = Resource::builder().with_service_name("t").build();
        HttpTransport::new(
            &format!("{endpoint}/v1/traces"),
            json,
            Duration::from_secs(5),
            &resource,
        )
        .unwrap()
    }

    /// Against testkit's receiver, which answers as a collector does: 429, 502, 503 (with
    /// `Retry-After`) and 504 are retried until the batch is taken, once; a 400 is final.
    #[tokio::test]
    async fn transient_refusals_are_retried_and_final_ones_are_not() {
        let receiver = testkit::OtlpReceiver::start().await;
        let http = transport(&receiver.endpoint(), false);
        receiver.fail_next(1, 503, Some(1));
        receiver.fail_next(1, 429, None);
        receiver.fail_next(1, 502, None);
        receiver.fail_next(1, 504, None);
        assert_eq!(http.export(vec![span("a")]).await, Ok(4));
        assert_eq!(receiver.count(), 1);
        receiver.fail_next(1, 400, None);
        let refused = http.export(vec![span("b")]).await;
        assert!(matches!(refused, Err(Refusal::Final(_))), "{refused:?}");
        assert_eq!(receiver.requests(), 6, "a final refusal is not retried");
        assert_eq!(receiver.count(), 1);
    }

    /// A collector that is down refuses connections; one that comes back within the
    /// batch's time takes the batch. JSON as well as protobuf.
    #[tokio::test]
    async fn a_refused_connection_is_retried_until_the_collector_is_back() {
        let port = testkit::free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = transport(&endpoint, true);
        let back = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            testkit::OtlpReceiver::start_on(&format!("127.0.0.1:{port}")).await
        });
        let retries = http.export(vec![span("c")]).await.unwrap();
        assert!(retries >= 1, "refused at first");
        let receiver = back.await.unwrap();
        assert_eq!(receiver.spans()[0].name, "c");
    }

    /// A pooled connection the collector closed (its idle timeout, or a restart) costs no
    /// batch: the next export goes out on a new connection.
    #[tokio::test]
    async fn a_connection_the_collector_closed_loses_no_batch() {
        let receiver =
            testkit::OtlpReceiver::with_idle_timeout("127.0.0.1:0", Duration::from_millis(300))
                .await;
        let http = transport(&receiver.endpoint(), false);
        for name in ["d", "e", "f"] {
            http.export(vec![span(name)]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let port = receiver.port;
        receiver.stop().await;
        let receiver = testkit::OtlpReceiver::start_on(&format!("127.0.0.1:{port}")).await;
        http.export(vec![span("g")]).await.unwrap();
        assert_eq!(receiver.count(), 1);
    }

    #[tokio::test]
    async fn no_collector_within_the_time_is_a_transient_refusal() {
        let resource = Resource::builder().with_service_name("t").build();
        let endpoint = format!("http://127.0.0.1:{}/v1/traces", testkit::free_port());
        let http =
            HttpTransport::new(&endpoint, false, Duration::from_millis(600), &resource).unwrap();
        let refused = http.export(vec![span("h")]).await;
        assert!(
            matches!(&refused, Err(Refusal::Transient { reason, .. }) if reason.contains("onnect")),
            "{refused:?}"
        );
    }

    #[test]
    fn the_specifications_transient_answers_are_retried_and_others_are_not() {
        let secs = Some(Duration::from_secs(3));
        assert_eq!(classify(StatusCode::OK, None), Ok(()));
        for code in [429, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify(status, secs), Err(Refusal::Transient { retry_after, .. }) if retry_after == secs),
                "{code}"
            );
        }
        for code in [400, 401, 404, 413, 415, 500] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify(status, None), Err(Refusal::Final(_))),
                "{code}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(800));
            assert!(d >= Duration::from_millis(600) && d <= Duration::from_millis(1000));
        }
    }
}
