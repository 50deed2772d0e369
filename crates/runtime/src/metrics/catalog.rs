//! Every metric the runtime records in every process, defined once: name, type, labels, unit
//! and help text. Code records only through these definitions, so a metric cannot appear in
//! `/metrics` without its `# HELP` line, and a label cannot be misspelt at one call site. A
//! service's own metrics are defined the same way in its crate (admin-svc's sign-ins).

use metrics::Unit;

pub use super::family::{Counter, Definition, Gauge, Histogram, Kind, NO_LABELS};

crate::metric_families! {
    HTTP_REQUESTS: Counter<3> = "http_requests_total",
        ["method", "route", "status"], None,
        "HTTP requests answered, by route, method and status.";
    HTTP_REQUEST_DURATION: Histogram<3> = "http_request_duration_seconds",
        ["method", "route", "status"], Some(Unit::Seconds),
        "Time to answer an HTTP request, by route, method and status.";
    HTTP_REQUESTS_ABANDONED: Counter<2> = "http_requests_abandoned_total",
        ["method", "route"], None,
        "Requests whose client hung up before the answer; their work still ran to its end.";
    HTTP_CONNECTIONS_OPEN: Gauge<0> = "http_connections_open",
        [], None,
        "HTTP connections open now (at most HTTP_MAX_CONNECTIONS; more wait to be accepted).";
    HTTP_CONNECTIONS_TIMED_OUT: Counter<0> = "http_connections_timed_out_total",
        [], None,
        "Connections closed because the client sent no complete request head within HTTP_HEADER_READ_TIMEOUT_MS (slow or idle clients).";

    EVENTS_PUBLISHED: Counter<1> = "events_published_total",
        ["event"], None,
        "Events the broker confirmed, by event type.";
    EVENTS_PUBLISH_FAILURES: Counter<1> = "events_publish_failures_total",
        ["reason"], None,
        "Publishes the broker did not confirm (they are retried), by reason.";
    OUTBOX_PENDING: Gauge<0> = "outbox_pending_messages",
        [], None,
        "Outbox rows waiting to be published.";
    OUTBOX_DELIVERY_LAG: Histogram<0> = "outbox_delivery_lag_seconds",
        [], Some(Unit::Seconds),
        "Time from an event's commit to the broker's confirm.";
    OUTBOX_RELAY_LEADER: Gauge<0> = "outbox_relay_leader",
        [], None,
        "1 while this replica's outbox relay holds the leader lock and publishes, 0 while it stands by.";
    OUTBOX_RELAY_LOCK_CONNECTION: Gauge<0> = "outbox_relay_lock_connection",
        [], None,
        "1 while the relay holds its leader-lock database connection (outside the pool), else 0.";
    OUTBOX_OLDEST_PENDING_AGE: Gauge<0> = "outbox_oldest_pending_age_seconds",
        [], Some(Unit::Seconds),
        "Age of the oldest outbox row not yet published; 0 when none waits.";
    PURGES: Counter<2> = "purges_total",
        ["table", "outcome"], None,
        "Runs of a purge of old rows (table: outbox, processed_messages, audit, sessions), by outcome (ok, failed); every PURGE_INTERVAL_SECS (hourly by default).";
    PURGED_ROWS: Counter<1> = "purged_rows_total",
        ["table"], None,
        "Rows deleted by the purges of old rows, by table.";
    AMQP_CONNECT_FAILURES: Counter<1> = "amqp_connect_failures_total",
        ["component"], None,
        "Failed attempts to connect to the broker.";
    AMQP_CONNECTED: Gauge<1> = "amqp_connected",
        ["component"], None,
        "1 while the component (relay, consumer) holds an open connection to the broker, else 0.";

    EVENTS_CONSUMED: Counter<2> = "events_consumed_total",
        ["event", "outcome"], None,
        "Messages taken off the queue and settled, by event type and outcome (applied, ignored, duplicate, dead_lettered).";
    EVENTS_RETRIED: Counter<2> = "events_retried_total",
        ["event", "reason"], None,
        "Failed attempts to apply a consumed event, by event type and reason (database_unavailable: held and tried again; handler_error: tried again up to the attempt limit).";
    EVENTS_DEAD_LETTERED: Counter<2> = "events_dead_lettered_total",
        ["event", "reason"], None,
        "Messages rejected into the dead-letter queue, by event type (other or none when unknown) and reason.";
    EVENT_PROCESSING: Histogram<1> = "event_processing_seconds",
        ["event"], Some(Unit::Seconds),
        "Time from taking a delivery to its ack, by event type.";
    EVENTS_END_TO_END_LAG: Histogram<1> = "events_end_to_end_lag_seconds",
        ["event"], Some(Unit::Seconds),
        "Time from an event's commit in the producing service's outbox to its commit here, by event type (clocks of both hosts).";

    DB_QUERY_DURATION: Histogram<1> = "db_query_duration_seconds",
        ["query"], Some(Unit::Seconds),
        "Time to run a database statement, by query name (commit included as commit).";

    DB_POOL_CONNECTIONS: Gauge<1> = "db_pool_connections",
        ["state"], None,
        "Database pool connections by state (idle, in_use, max).";
    DB_TRANSACTIONS_ROLLED_BACK: Counter<1> = "db_transactions_rolled_back_total",
        ["reason"], None,
        "Transactions found open on a connection returned to the pool (work cancelled half way) and rolled back there.";
    DB_CONNECTIONS_DISCARDED: Counter<1> = "db_connections_discarded_total",
        ["reason"], None,
        "Connections closed instead of returned to the pool because they failed or did not answer the release check.";

    LIST_REBUILDS: Counter<1> = "list_rebuilds_total",
        ["list"], None,
        "Times the in-memory product list (shop, catalogue) was read from the database and encoded again, after a change.";
    LIST_REBUILD_DURATION: Histogram<1> = "list_rebuild_duration_seconds",
        ["list"], Some(Unit::Seconds),
        "Time to read a product list and encode it (JSON, gzip, brotli).";
    LIST_BYTES: Gauge<1> = "list_bytes",
        ["list"], None,
        "Size of the product list's JSON, uncompressed.";
    REQUESTS_SHED: Counter<1> = "http_requests_shed_total",
        ["reason"], None,
        "Requests answered 503 at once because the service was overloaded (queue_full: too many waiting for the database; pool_timeout: no connection within DB_ACQUIRE_TIMEOUT_MS).";

    OTEL_SPANS_EXPORTED: Counter<0> = "otel_spans_exported_total",
        [], None,
        "Spans the trace collector accepted.";
    OTEL_SPANS_DROPPED: Counter<1> = "otel_spans_dropped_total",
        ["reason"], None,
        "Spans dropped instead of exported, by reason (queue_full: the export queue was full; export_failed: the collector refused the batch or did not take it in time, after retries; shutdown: still queued, or ended, when the process stopped).";
    MEMORY_RETURNED: Counter<0> = "memory_returned_bytes_total",
        [], None,
        "Bytes of freed heap given back to the system by the periodic trim (MEMORY_TRIM_SECS), measured as the resident set's shrinkage.";
    MEMORY_TRIM_DURATION: Histogram<0> = "memory_trim_seconds",
        [], Some(Unit::Seconds),
        "Time one trim of the allocator's free pages took (every MEMORY_TRIM_SECS).";
    DB_CREDENTIAL_RELOADS: Counter<1> = "db_credential_reloads_total",
        ["outcome"], None,
        "Reads of the database secret after the database refused the credentials, by outcome (changed: the pool reconnects with the new ones; unchanged; failed: the secret could not be read).";
}

/// The process's own resources, read from `/proc` at each scrape (not recorded), under the
/// names Prometheus' client libraries use, so that the usual dashboards work.
pub static PROCESS: &[Definition] = &[
    Definition {
        name: "process_cpu_seconds_total",
        kind: Kind::Counter,
        labels: &[],
        unit: None,
        help: "Total user and system CPU time spent in seconds.",
    },
    Definition {
        name: "process_resident_memory_bytes",
        kind: Kind::Gauge,
        labels: &[],
        unit: None,
        help: "Resident memory size in bytes.",
    },
    Definition {
        name: "process_virtual_memory_bytes",
        kind: Kind::Gauge,
        labels: &[],
        unit: None,
        help: "Virtual memory size in bytes.",
    },
    Definition {
        name: "process_open_fds",
        kind: Kind::Gauge,
        labels: &[],
        unit: None,
        help: "Number of open file descriptors.",
    },
    Definition {
        name: "process_max_fds",
        kind: Kind::Gauge,
        labels: &[],
        unit: None,
        help: "Maximum number of open file descriptors.",
    },
    Definition {
        name: "process_threads",
        kind: Kind::Gauge,
        labels: &[],
        unit: None,
        help: "Number of OS threads in the process.",
    },
    Definition {
        name: "process_start_time_seconds",
        kind: Kind::Gauge,
        labels: &[],
        unit: None,
        help: "Start time of the process since unix epoch in seconds.",
    },
];

/// Registers every family's help text with the installed recorder.
pub fn describe_all() {
    super::family::describe(ALL);
}

/// `otel_spans_dropped_total`'s reasons: the export queue was full; the collector refused
/// the batch or did not answer, after the retries; the span ended while the process was
/// stopping, after the last export.
pub const SPANS_DROPPED_REASONS: [&str; 3] = ["queue_full", "export_failed", "shutdown"];
/// `events_publish_failures_total`'s reasons.
pub const PUBLISH_FAILURE_REASONS: [&str; 3] = ["unroutable", "nack", "broker"];

/// The series every process may count whose labels are known up front, registered at 0
/// when the recorder is installed: a counter that appears only with its first event is
/// invisible to `increase()` for that event. Each loop registers its own the same way
/// (the consumer's events by outcome, the relay's publish failures).
pub fn start_at_zero() {
    OTEL_SPANS_EXPORTED.start_at_zero(NO_LABELS);
    for reason in SPANS_DROPPED_REASONS {
        OTEL_SPANS_DROPPED.start_at_zero([reason]);
    }
    DB_TRANSACTIONS_ROLLED_BACK.start_at_zero(["abandoned"]);
    for reason in ["error", "unresponsive"] {
        DB_CONNECTIONS_DISCARDED.start_at_zero([reason]);
    }
    HTTP_CONNECTIONS_TIMED_OUT.start_at_zero(NO_LABELS);
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn valid_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn every_family_has_help_text_a_valid_name_and_valid_labels() {
        let mut names = HashSet::new();
        for family in ALL.iter().copied().chain(PROCESS) {
            assert!(names.insert(family.name), "{} defined twice", family.name);
            assert!(valid_name(family.name), "{}", family.name);
            assert!(
                family.help.trim().len() >= 10 && family.help.ends_with('.'),
                "{} needs a sentence of help text",
                family.name
            );
            for label in family.labels {
                assert!(valid_name(label), "{}: label {label}", family.name);
            }
            if family.kind == Kind::Counter {
                assert!(family.name.ends_with("_total"), "{}", family.name);
            }
            if family.unit == Some(Unit::Seconds) {
                assert!(family.name.ends_with("_seconds"), "{}", family.name);
            }
        }
    }

    /// What a scrape shows: every family recorded through its definition comes with its
    /// `# HELP` and `# TYPE` lines.
    #[test]
    fn every_family_is_rendered_with_help_and_type() {
        let recorder = crate::metrics::builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe_all();
            for family in ALL {
                let labels = family.labels(family.labels.iter().map(|_| "x"));
                match family.kind {
                    Kind::Counter => metrics::counter!(family.name, labels).increment(1),
                    Kind::Gauge => metrics::gauge!(family.name, labels).set(1.0),
                    Kind::Histogram => metrics::histogram!(family.name, labels).record(1.0),
                }
            }
        });
        let text = handle.render();
        for family in ALL {
            let help = format!("# HELP {} {}\n", family.name, family.help);
            let kind = format!("# TYPE {} {}\n", family.name, family.kind.as_str());
            assert!(text.contains(&help), "no help for {}:\n{text}", family.name);
            assert!(text.contains(&kind), "no type for {}:\n{text}", family.name);
        }
    }

    #[test]
    fn recording_names_the_labels_in_definition_order() {
        let recorder = crate::metrics::builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            EVENTS_CONSUMED.increment(["product_liked", "applied"]);
            OUTBOX_PENDING.set(NO_LABELS, 3.0);
        });
        let text = handle.render();
        assert!(
            text.contains(r#"events_consumed_total{event="product_liked",outcome="applied"} 1"#),
            "{text}"
        );
        assert!(text.contains("outbox_pending_messages 3"), "{text}");
    }
}
