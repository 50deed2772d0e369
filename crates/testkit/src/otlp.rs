//! A real OTLP/HTTP trace receiver, answering as the OpenTelemetry Collector's `otlp`
//! receiver (and Jaeger's, which is the same code) does: `POST /v1/traces` with a protobuf
//! (`application/x-protobuf`) or JSON (`application/json`) `ExportTraceServiceRequest`,
//! decoded with the `opentelemetry-proto` types; `200` with an `ExportTraceServiceResponse`
//! in the request's encoding; `415` for another content type, `400` for a body that does not
//! decode, `413` above 20 MiB, `404`/`405` for another path or method. HTTP/1.1 with
//! keep-alive, and idle connections closed after a while (the collector's Go server does
//! so after its `IdleTimeout`): a client's pooled connection can go stale, as with a real one.
//!
//! A test can make it answer the next requests with a failure ([`OtlpReceiver::fail_next`]:
//! `429`/`503` with `Retry-After`, `502`, `504`), and stop it as a process stops
//! ([`OtlpReceiver::stop`]: the listener and every connection closed), then start another on
//! the same port. No mock of the SDK: the processes under test export over the network
//! exactly as they would to Jaeger or a Collector.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;
use tokio::task::JoinSet;

/// The Collector's default `max_request_body_size` (confighttp): 20 MiB.
const MAX_BODY: usize = 20 * 1024 * 1024;

/// How long an idle keep-alive connection stays open (the receiver's default; see
/// [`OtlpReceiver::with_idle_timeout`]).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// When the request that carried it arrived.
    pub received: Instant,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// A failure to answer instead of taking a request.
#[derive(Debug, Clone, Copy)]
struct Failure {
    status: StatusCode,
    retry_after_secs: Option<u32>,
}

/// What the receiver took.
#[derive(Default)]
struct Store {
    keep: bool,
    count: AtomicUsize,
    /// Export requests answered, whatever the answer.
    requests: AtomicUsize,
    /// Connections accepted.
    connections: AtomicUsize,
    /// Spans received per `service.name`, kept or not.
    by_service: Mutex<HashMap<String, usize>>,
    spans: Mutex<Vec<ReceivedSpan>>,
    failures: Mutex<VecDeque<Failure>>,
}

/// The receiver, listening on a loopback port until stopped or dropped.
pub struct OtlpReceiver {
    pub port: u16,
    store: Arc<Store>,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Listens on `addr` (`host:port`).
    pub async fn start_on(addr: &str) -> Self {
        Self::listen(addr, true, IDLE_TIMEOUT).await
    }

    /// Listens on `addr`, closing connections idle for `idle` (a collector configured with a
    /// short `idle_timeout`, to make pooled connections go stale quickly).
    pub async fn with_idle_timeout(addr: &str, idle: Duration) -> Self {
        Self::listen(addr, true, idle).await
    }

    /// Listens on `addr` and only counts the spans (a benchmark's sink: nothing kept).
    pub async fn counting_on(addr: &str) -> Self {
        Self::listen(addr, false, IDLE_TIMEOUT).await
    }

    async fn listen(addr: &str, keep: bool, idle: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let store = Arc::new(Store {
            keep,
            ..Store::default()
        });
        let server = tokio::spawn(serve(listener, store.clone(), idle));
        OtlpReceiver {
            port,
            store,
            server,
        }
    }

    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` is set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many spans were received so far.
    pub fn count(&self) -> usize {
        self.store.count.load(Ordering::Relaxed)
    }

    /// How many export requests were answered so far, with success or not.
    pub fn requests(&self) -> usize {
        self.store.requests.load(Ordering::Relaxed)
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.store.connections.load(Ordering::Relaxed)
    }

    /// How many spans were received so far from each service (the resource's
    /// `service.name`), whether the spans are kept or only counted.
    pub fn count_by_service(&self) -> HashMap<String, usize> {
        self.store.by_service.lock().unwrap().clone()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.spans.lock().unwrap().clone()
    }

    /// Answers the next `n` export requests with `status` (and `Retry-After: secs` when
    /// given) instead of taking their spans, as a collector under memory pressure (`503`),
    /// one that throttles (`429`), or a gateway in front of one (`502`, `504`) does.
    pub fn fail_next(&self, n: usize, status: u16, retry_after_secs: Option<u32>) {
        let status = StatusCode::from_u16(status).unwrap();
        let mut failures = self.store.failures.lock().unwrap();
        failures.extend(std::iter::repeat_n(
            Failure {
                status,
                retry_after_secs,
            },
            n,
        ));
    }

    /// Stops as a collector's process does: the listener and every open connection closed
    /// at once (a request in flight gets no answer). The port is free for another receiver.
    /// Returns every span it took.
    pub async fn stop(mut self) -> Vec<ReceivedSpan> {
        self.server.abort();
        let _ = (&mut self.server).await;
        self.spans()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Accepts connections until aborted; aborting drops the set of connection tasks, which
/// aborts them and closes their sockets.
async fn serve(listener: tokio::net::TcpListener, store: Arc<Store>, idle: Duration) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                store.connections.fetch_add(1, Ordering::Relaxed);
                let store = store.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let store = store.clone();
                        async move { Ok::<_, Infallible>(answer(&store, req).await) }
                    });
                    // hyper's header read timeout runs while a kept-alive connection waits
                    // for its next request: the idle timeout.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(idle)
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(text.to_owned())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, "text/plain".parse().unwrap());
    res
}

async fn answer(store: &Store, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != "/v1/traces" {
        return plain(StatusCode::NOT_FOUND, "404 page not found");
    }
    if req.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed");
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let encoding = match content_type.as_deref() {
        Some("application/x-protobuf") => Encoding::Protobuf,
        Some("application/json") => Encoding::Json,
        _ => {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "415 unsupported media type, supported: [application/json, application/x-protobuf]",
            );
        }
    };
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return plain(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()),
    };
    store.requests.fetch_add(1, Ordering::Relaxed);
    let failure = store.failures.lock().unwrap().pop_front();
    if let Some(failure) = failure {
        let mut res = plain(failure.status, "refused by the test");
        if let Some(secs) = failure.retry_after_secs {
            res.headers_mut()
                .insert(RETRY_AFTER, secs.to_string().parse().unwrap());
        }
        return res;
    }
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice(&body).map_err(|e| e.to_string()),
    };
    let request = match request {
        Ok(r) => r,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e),
    };
    take(store, request);
    let response = ExportTraceServiceResponse::default();
    let bytes = match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&response).unwrap(),
    };
    let mut res = Response::new(Full::new(Bytes::from(bytes)));
    res.headers_mut()
        .insert(CONTENT_TYPE, encoding.content_type().parse().unwrap());
    res
}

fn take(store: &Store, request: ExportTraceServiceRequest) {
    let now = Instant::now();
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
                    received: now,
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
