//! Logs and traces.
//!
//! - **Logs**: readable text, or one JSON object per line (`LOG_FORMAT=json`) that carries
//!   the `trace_id` and `span_id` of the span it was written in, so a log line leads to its
//!   trace. `RUST_LOG` filters them (default `info`).
//! - **Traces**: OpenTelemetry spans, exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//!   (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, configured by the standard
//!   `OTEL_*` variables ([`config`]). Without an endpoint the spans are still made, so their
//!   ids reach log lines and travel on events, but are sent nowhere; `OTEL_SDK_DISABLED=true`
//!   turns tracing off entirely. Export never slows a request (`export`).
//!
//! The span tree of an action, following OpenTelemetry's semantic conventions: the HTTP
//! server span ([`crate::http::trace`]), a client span per database statement and commit
//! ([`crate::statement`]), the outbox row keeping the request's context until the relay's
//! producer span publishes it ([`crate::outbox`]), and the other service's consumer span,
//! a child of the producer span, around its own database spans ([`crate::consumer`]).
//! Only this workspace's own spans are exported (not those of the HTTP, gRPC or database
//! libraries), and no span carries a request body, a cookie or a secret.

pub mod config;
mod context;
mod export;
mod http;
mod json;

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter as _};

use self::export::Transport;
use self::http::HttpTransport;
use tracing::Metadata;
use tracing::subscriber::Interest;
use tracing_subscriber::filter::{DynFilterFn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

pub use context::{continue_from, trace_of};

use self::config::{Protocol, TraceConfig};
use self::export::QueueProcessor;
use crate::config::{ConfigError, Env};

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines, for a terminal (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json"),
        }
    }
}

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    /// Standard output: what a service writes, for the container's log collector.
    Stdout,
    /// Standard error: what an operator command writes, so that its standard output is only
    /// its answer (`TOKEN=$(admin-api create-token …)`).
    Stderr,
}

impl LogOutput {
    fn writer(self) -> tracing_subscriber::fmt::writer::BoxMakeWriter {
        match self {
            LogOutput::Stdout => {
                tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stdout)
            }
            LogOutput::Stderr => {
                tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr)
            }
        }
    }
}

/// The export queue, which [`shutdown`] flushes.
static QUEUE: OnceLock<QueueProcessor> = OnceLock::new();

/// Installs the global subscriber: log lines in the format `LOG_FORMAT` names, and spans as
/// the `OTEL_*` variables say. Call inside the Tokio runtime (the exporter runs on it).
pub fn init(service: &str, env: &Env, output: LogOutput) -> Result<(), ConfigError> {
    let format = env.parse("LOG_FORMAT", LogFormat::Text)?;
    let traces = TraceConfig::from_env(service, env)?;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,lapin=warn"));
    let logs = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(json::WithTraceIds::new())
            .with_writer(output.writer())
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(output.writer())
            .boxed(),
    };
    let spans = match &traces {
        Some(config) => Some(tracer_layer(config).map_err(|e| {
            ConfigError::new(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("cannot build the exporter: {e}"),
            )
        })?),
        None => None,
    };
    let result = tracing_subscriber::registry()
        .with(spans)
        .with(logs.with_filter(filter))
        .try_init();
    if result.is_ok() {
        let export = traces.as_ref().and_then(|t| t.export.as_ref());
        tracing::info!(
            service,
            version = env!("CARGO_PKG_VERSION"),
            traces = match (&traces, export) {
                (None, _) => "disabled (OTEL_SDK_DISABLED)",
                (Some(_), None) => "not exported (no OTEL_EXPORTER_OTLP_ENDPOINT)",
                (Some(_), Some(_)) => "exported",
            },
            endpoint = export.map(|e| e.endpoint.as_str()),
            "starting"
        );
    }
    Ok(())
}

/// Spans and events of this workspace's crates only: the HTTP, gRPC and database libraries'
/// own spans would be noise in a trace, and the exporter's would feed back into itself.
fn ours(metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();
    let own = [
        "shop_runtime",
        "admin_svc",
        "main_svc",
        "admin_api",
        "main_api",
        "admin_consumer",
        "main_consumer",
    ]
    .iter()
    .any(|krate| target.starts_with(krate));
    own && (metadata.is_span() || *metadata.level() <= tracing::Level::WARN)
}

fn tracer_layer(config: &TraceConfig) -> Result<Box<dyn Layer<Registry> + Send + Sync>, String> {
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .with_attributes(
            config
                .resource
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .build();
    let mut provider = SdkTracerProvider::builder()
        .with_sampler(config.sampler.sampler())
        .with_resource(resource.clone());
    if let Some(export) = &config.export {
        let transport = match export.protocol {
            Protocol::Grpc => {
                let mut exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(&export.endpoint)
                    .with_timeout(export.timeout)
                    .build()
                    .map_err(|e| e.to_string())?;
                exporter.set_resource(&resource);
                Transport::Grpc(exporter)
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => Transport::Http(HttpTransport::new(
                &export.endpoint,
                export.protocol == Protocol::HttpJson,
                export.timeout,
                &resource,
            )?),
        };
        let processor = QueueProcessor::start(transport, export);
        provider = provider.with_span_processor(processor.clone());
        let _ = QUEUE.set(processor);
    }
    let tracer = provider.build().tracer("shop");
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        // Asked at every span and event, never cached per callsite: with a callsite cached as
        // always enabled for both layers (`RUST_LOG=info`, the default), tracing-subscriber
        // skips `enabled()` and each layer's filter reads whatever per-thread state the last
        // `enabled()` left, often another crate's callsite this filter refused, so the
        // server, producer and consumer spans were not given to this layer at all: neither
        // exported nor counted.
        .with_filter(
            DynFilterFn::new(|metadata, _| ours(metadata))
                .with_callsite_filter(|_| Interest::sometimes()),
        )
        .boxed())
}

/// Exports the spans ended so far, waiting at most `limit`; call as the process stops.
pub async fn shutdown(limit: Duration) {
    if let Some(queue) = QUEUE.get()
        && !queue.flush(limit).await
    {
        tracing::warn!(
            limit_ms = limit.as_millis() as u64,
            "spans not all exported at shutdown"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::LogFormat;

    #[test]
    fn log_formats_parse_and_bad_ones_are_refused() {
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!("JSON".parse(), Ok(LogFormat::Json));
        assert_eq!("text".parse(), Ok(LogFormat::Text));
        assert!("yaml".parse::<LogFormat>().is_err());
    }
}
