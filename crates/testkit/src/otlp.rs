//! A real OTLP/HTTP trace receiver, as a collector is: it takes `POST /v1/traces` with a
//! protobuf `ExportTraceServiceRequest`, decodes it with the `opentelemetry-proto` types and
//! keeps every span, for a test to read. No mock of the SDK: the processes under test
//! export over the network exactly as they would to Jaeger or an OpenTelemetry Collector.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

/// One received span, flattened: its service and its attributes as strings.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The resource's `service.name`.
    pub service: String,
    pub name: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits; empty for a root span.
    pub parent_span_id: String,
    /// `opentelemetry.proto.trace.v1.Span.SpanKind`: 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    /// `opentelemetry.proto.trace.v1.Status.StatusCode`: 2 is an error.
    pub status_code: i32,
    pub attributes: HashMap<String, String>,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// What the receiver took.
struct Store {
    keep: bool,
    count: AtomicUsize,
    /// Spans received per `service.name`, kept or not.
    by_service: Mutex<HashMap<String, usize>>,
    spans: Mutex<Vec<ReceivedSpan>>,
}

/// The receiver, listening on a free loopback port until dropped.
pub struct OtlpReceiver {
    pub port: u16,
    spans: Arc<Store>,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Listens on `addr` (`host:port`).
    pub async fn start_on(addr: &str) -> Self {
        Self::listen(addr, true).await
    }

    /// Listens on `addr` and only counts the spans (a benchmark's sink: nothing kept).
    pub async fn counting_on(addr: &str) -> Self {
        Self::listen(addr, false).await
    }

    async fn listen(addr: &str, keep: bool) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let spans = Arc::new(Store {
            keep,
            count: AtomicUsize::new(0),
            by_service: Mutex::new(HashMap::new()),
            spans: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(spans.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        OtlpReceiver {
            port,
            spans,
            server,
        }
    }

    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` is set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many spans were received so far.
    pub fn count(&self) -> usize {
        self.spans.count.load(Ordering::Relaxed)
    }

    /// How many spans were received so far from each service (the resource's
    /// `service.name`), whether the spans are kept or only counted.
    pub fn count_by_service(&self) -> HashMap<String, usize> {
        self.spans.by_service.lock().unwrap().clone()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.spans.lock().unwrap().clone()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(State(store): State<Arc<Store>>, body: Bytes) -> impl IntoResponse {
    let request = match ExportTraceServiceRequest::decode(body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut received = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        let service = resource.get("service.name").cloned().unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                received.push(ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: span.kind,
                    status_code: span.status.map_or(0, |s| s.code),
                    attributes: attributes(&span.attributes),
                });
            }
        }
    }
    store.count.fetch_add(received.len(), Ordering::Relaxed);
    {
        let mut by_service = store.by_service.lock().unwrap();
        for span in &received {
            *by_service.entry(span.service.clone()).or_default() += 1;
        }
    }
    if store.keep {
        store.spans.lock().unwrap().extend(received);
    }
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

fn attributes(kvs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> HashMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                Some(Value::BoolValue(b)) => b.to_string(),
                Some(Value::IntValue(i)) => i.to_string(),
                Some(Value::DoubleValue(d)) => d.to_string(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
