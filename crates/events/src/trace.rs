//! W3C Trace Context (`traceparent`, `tracestate`) carried in AMQP headers.

use std::fmt;

/// A validated W3C trace context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    traceparent: String,
    tracestate: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a W3C traceparent: {0:?}")]
pub struct TraceContextError(pub String);

impl TraceContext {
    /// Validates a `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, ids not all zero).
    pub fn new(traceparent: &str, tracestate: Option<&str>) -> Result<Self, TraceContextError> {
        let bad = || TraceContextError(traceparent.chars().take(64).collect());
        let parts: Vec<&str> = traceparent.trim().split('-').collect();
        let [version, trace_id, parent_id, flags] = parts[..] else {
            return Err(bad());
        };
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
        let valid = hex(version, 2)
            && version != "ff"
            && hex(trace_id, 32)
            && nonzero(trace_id)
            && hex(parent_id, 16)
            && nonzero(parent_id)
            && hex(flags, 2);
        if !valid {
            return Err(bad());
        }
        Ok(TraceContext {
            traceparent: format!("{version}-{trace_id}-{parent_id}-{flags}"),
            tracestate: tracestate
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.len() <= 512)
                .map(str::to_owned),
        })
    }

    /// A new root context: a random trace id and span id, sampled.
    pub fn generate() -> Self {
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        TraceContext {
            traceparent: format!("00-{trace_id}-{}-01", new_span_id()),
            tracestate: None,
        }
    }

    /// A context for a child span: the same trace, a new span id, the same flags and state.
    pub fn child(&self) -> Self {
        let flags = &self.traceparent[53..55];
        TraceContext {
            traceparent: format!("00-{}-{}-{flags}", self.trace_id(), new_span_id()),
            tracestate: self.tracestate.clone(),
        }
    }

    pub fn traceparent(&self) -> &str {
        &self.traceparent
    }

    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The 32-hex-digit trace id, for log lines.
    pub fn trace_id(&self) -> &str {
        &self.traceparent[3..35]
    }
}

/// 16 random hex digits (64 bits from a v4 UUID).
fn new_span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent)
    }
}
