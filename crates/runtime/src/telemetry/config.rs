//! Trace export settings from OpenTelemetry's standard variables. A value that is set but
//! invalid stops the process with a message naming the variable, like every other setting;
//! the SDK's own reading of them (which ignores bad values) is not used.

use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;

use crate::config::{ConfigError, Env};

/// How spans travel to the collector (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `grpc`, usually port 4317.
    Grpc,
    /// `http/protobuf` (the default), usually port 4318, path `/v1/traces`.
    HttpProtobuf,
    /// `http/json`, as `http/protobuf` but JSON.
    HttpJson,
}

impl Protocol {
    fn parse(name: &str, raw: &str) -> Result<Self, ConfigError> {
        match raw.trim() {
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            other => Err(ConfigError::new(
                name,
                format!("expected grpc, http/protobuf or http/json (got {other:?})"),
            )),
        }
    }
}

/// Which traces are recorded (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerChoice {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

impl SamplerChoice {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        const NAME: &str = "OTEL_TRACES_SAMPLER";
        const ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
        let ratio = || -> Result<f64, ConfigError> {
            let ratio: f64 = env.parse(ARG, 1.0)?;
            if !(0.0..=1.0).contains(&ratio) {
                return Err(ConfigError::new(
                    ARG,
                    format!("must be between 0 and 1 (got {ratio})"),
                ));
            }
            Ok(ratio)
        };
        let name = env.string(NAME, "parentbased_always_on");
        Ok(match name.as_str() {
            "always_on" => SamplerChoice::AlwaysOn,
            "always_off" => SamplerChoice::AlwaysOff,
            "traceidratio" => SamplerChoice::TraceIdRatio(ratio()?),
            "parentbased_always_on" => SamplerChoice::ParentBasedAlwaysOn,
            "parentbased_always_off" => SamplerChoice::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => SamplerChoice::ParentBasedTraceIdRatio(ratio()?),
            other => {
                return Err(ConfigError::new(
                    NAME,
                    format!(
                        "expected always_on, always_off, traceidratio, parentbased_always_on, \
                         parentbased_always_off or parentbased_traceidratio (got {other:?})"
                    ),
                ));
            }
        })
    }

    pub fn sampler(self) -> Sampler {
        let parent_based = |root| Sampler::ParentBased(Box::new(root));
        match self {
            SamplerChoice::AlwaysOn => Sampler::AlwaysOn,
            SamplerChoice::AlwaysOff => Sampler::AlwaysOff,
            SamplerChoice::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
            SamplerChoice::ParentBasedAlwaysOn => parent_based(Sampler::AlwaysOn),
            SamplerChoice::ParentBasedAlwaysOff => parent_based(Sampler::AlwaysOff),
            SamplerChoice::ParentBasedTraceIdRatio(r) => {
                parent_based(Sampler::TraceIdRatioBased(r))
            }
        }
    }
}

/// Where and how spans are exported.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub protocol: Protocol,
    /// The full URL spans are sent to (for HTTP, with `/v1/traces`).
    pub endpoint: String,
    /// Bound on one export call (`OTEL_EXPORTER_OTLP_TIMEOUT`, default 10 s).
    pub timeout: Duration,
    /// Spans waiting for export at most (`OTEL_BSP_MAX_QUEUE_SIZE`, default 2048); more are
    /// dropped and counted.
    pub max_queue: usize,
    /// Spans per export call at most (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512).
    pub max_batch: usize,
    /// How long a span waits for its batch to fill (`OTEL_BSP_SCHEDULE_DELAY`, default 5 s).
    pub delay: Duration,
}

/// The process's trace settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceConfig {
    /// `OTEL_SERVICE_NAME`, else the process's name (`admin-api`, …).
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`, checked and decoded.
    pub resource: Vec<(String, String)>,
    pub sampler: SamplerChoice,
    /// `None` when no endpoint is set: spans are still made (their ids go into log lines and
    /// onto events, so traces continue in processes that do export) but sent nowhere.
    pub export: Option<Export>,
}

impl TraceConfig {
    /// `None` when `OTEL_SDK_DISABLED=true`: no spans at all, as if tracing were not built in.
    pub fn from_env(service: &str, env: &Env) -> Result<Option<Self>, ConfigError> {
        if env.bool("OTEL_SDK_DISABLED", false)? {
            return Ok(None);
        }
        let service_name = env.string("OTEL_SERVICE_NAME", service);
        let resource = match env.get("OTEL_RESOURCE_ATTRIBUTES") {
            None => Vec::new(),
            Some(raw) => resource_attributes(raw)
                .map_err(|reason| ConfigError::new("OTEL_RESOURCE_ATTRIBUTES", reason))?,
        };
        Ok(Some(TraceConfig {
            service_name,
            resource,
            sampler: SamplerChoice::from_env(env)?,
            export: export(env)?,
        }))
    }
}

fn export(env: &Env) -> Result<Option<Export>, ConfigError> {
    // The signal-specific variable wins over the general one, as the specification says.
    let first = |names: [&'static str; 2]| names.into_iter().find_map(|n| Some((n, env.get(n)?)));
    let protocol = match first([
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]) {
        Some((name, raw)) => Protocol::parse(name, raw)?,
        None => Protocol::HttpProtobuf,
    };
    let endpoint = match first([
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]) {
        None => return Ok(None),
        Some((name, raw)) => {
            let url = url::Url::parse(raw.trim())
                .map_err(|e| ConfigError::new(name, format!("not a URL: {e} (got {raw:?})")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(ConfigError::new(
                    name,
                    format!("expected an http:// or https:// URL with a host (got {raw:?})"),
                ));
            }
            let base = raw.trim().trim_end_matches('/');
            // The general variable is a base URL: HTTP exporters add the signal's path.
            if name == "OTEL_EXPORTER_OTLP_ENDPOINT" && protocol != Protocol::Grpc {
                format!("{base}/v1/traces")
            } else {
                base.to_owned()
            }
        }
    };
    let timeout = match first([
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]) {
        Some((name, _)) => env.millis(name, 10_000, 1)?,
        None => Duration::from_secs(10),
    };
    let max_queue: usize = env.parse("OTEL_BSP_MAX_QUEUE_SIZE", 2048)?;
    let max_batch: usize = env.parse("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)?;
    if max_queue == 0 {
        return Err(ConfigError::new(
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "must be at least 1",
        ));
    }
    if max_batch == 0 || max_batch > max_queue {
        return Err(ConfigError::new(
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            format!("must be between 1 and OTEL_BSP_MAX_QUEUE_SIZE ({max_queue})"),
        ));
    }
    Ok(Some(Export {
        protocol,
        endpoint,
        timeout,
        max_queue,
        max_batch,
        delay: env.millis("OTEL_BSP_SCHEDULE_DELAY", 5_000, 1)?,
    }))
}

/// `key1=value1,key2=value2`, values percent-encoded (W3C Baggage octets).
fn resource_attributes(raw: &str) -> Result<Vec<(String, String)>, String> {
    raw.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                format!("expected key=value pairs separated by commas (got {item:?})")
            })?;
            let key = key.trim();
            if key.is_empty() {
                return Err(format!("empty key in {item:?}"));
            }
            let value = percent_encoding::percent_decode_str(value.trim())
                .decode_utf8()
                .map_err(|_| format!("value of {key} is not UTF-8 once decoded"))?;
            Ok((key.to_owned(), value.into_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Option<TraceConfig>, ConfigError> {
        TraceConfig::from_env("admin-api", &Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn nothing_set_means_spans_without_export() {
        let c = config(&[]).unwrap().unwrap();
        assert_eq!(c.service_name, "admin-api");
        assert_eq!(c.sampler, SamplerChoice::ParentBasedAlwaysOn);
        assert_eq!(c.export, None);
    }

    #[test]
    fn disabled_means_no_tracing() {
        assert_eq!(config(&[("OTEL_SDK_DISABLED", "true")]).unwrap(), None);
        assert!(config(&[("OTEL_SDK_DISABLED", "false")]).unwrap().is_some());
    }

    #[test]
    fn http_endpoints_get_the_traces_path_and_grpc_ones_do_not() {
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318/")]).unwrap();
        let e = c.unwrap().export.unwrap();
        assert_eq!(e.endpoint, "http://jaeger:4318/v1/traces");
        assert_eq!(e.protocol, Protocol::HttpProtobuf);

        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        assert_eq!(
            c.unwrap().unwrap().export.unwrap().endpoint,
            "http://jaeger:4317"
        );

        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
        ]);
        assert_eq!(
            c.unwrap().unwrap().export.unwrap().endpoint,
            "http://b:4318/custom"
        );
    }

    #[test]
    fn service_name_sampler_and_resource_come_from_the_standard_variables() {
        let c = config(&[
            ("OTEL_SERVICE_NAME", "catalogue"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=staging, team=shop%20core",
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.service_name, "catalogue");
        assert_eq!(c.sampler, SamplerChoice::ParentBasedTraceIdRatio(0.25));
        assert_eq!(
            c.resource,
            [
                ("deployment.environment".to_owned(), "staging".to_owned()),
                ("team".to_owned(), "shop core".to_owned())
            ]
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (pairs, variable) in [
            (vec![("OTEL_SDK_DISABLED", "maybe")], "OTEL_SDK_DISABLED"),
            (
                vec![("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                vec![
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "2"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                vec![
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "x"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "jaeger:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (
                vec![("OTEL_RESOURCE_ATTRIBUTES", "novalue")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
            (
                vec![("OTEL_RESOURCE_ATTRIBUTES", "=x")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
            (
                vec![
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                    ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
                ],
                "OTEL_BSP_MAX_QUEUE_SIZE",
            ),
            (
                vec![
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                    ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
                ],
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ),
        ] {
            let err = config(&pairs).expect_err(variable);
            assert_eq!(err.name, variable, "{err}");
        }
    }
}
