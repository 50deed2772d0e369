// The shop's dashboards. `npm run generate` writes each to grafana/dashboards/<file>; the
// committed JSON must equal what this file generates (`npm run check`).
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";

import {
  API_JOBS,
  CONSUMER_JOBS,
  DEAD_LETTER_QUEUES,
  FULL,
  HALF,
  QUARTER,
  SHOP_JOBS,
  THIRD,
  type Size,
  graph,
  row,
  shopDashboard,
  single,
  upDown,
} from "./panels";

const R = "$__rate_interval";
const SHOP = `job=~"${SHOP_JOBS}"`;
const APIS = `job=~"${API_JOBS}"`;
const CONSUMERS = `job=~"${CONSUMER_JOBS}"`;
const DLQ = `queue=~"${DEAD_LETTER_QUEUES}"`;
const WORK_QUEUES = `queue!~"${DEAD_LETTER_QUEUES}"`;

const quantile = (q: number, metric: string, by: string, filter = "") =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket${filter ? `{${filter}}` : ""}[${R}])))`;

const errorRatio = `sum by (job) (rate(http_requests_total{status=~"5.."}[${R}])) / sum by (job) (rate(http_requests_total[${R}]))`;

/** One UP/DOWN tile per process of the shop, RabbitMQ and MariaDB, in a line. */
function withUpStatus(d: dashboard.DashboardBuilder): dashboard.DashboardBuilder {
  for (const job of SHOP_JOBS.split("|")) {
    d.withPanel(upDown(job, `Prometheus' scrape of ${job}'s /metrics.`, [[`up{job="${job}"}`, "{{job}}"]]));
  }
  d.withPanel(upDown("RabbitMQ", "Prometheus' scrape of RabbitMQ's prometheus plugin.", [['up{job="rabbitmq"}', "{{job}}"]]));
  return d.withPanel(upDown("MariaDB", "mysqld_exporter's last query of MariaDB succeeded.", [["mysql_up", "{{job}}"]]));
}

function overview(): dashboard.DashboardBuilder {
  const d = shopDashboard(
    "shop-overview",
    "Microservices Overview",
    "The whole shop at a glance: is every process up, how much traffic, how many errors, how fast, and whether events flow.",
  );
  return withUpStatus(d)
    .withPanel(
      graph("Requests per second", "HTTP answers per second, by process.", "reqps", [
        [`sum by (job) (rate(http_requests_total[${R}]))`, "{{job}}"],
      ], THIRD),
    )
    .withPanel(
      graph("Server errors (5xx share)", "Share of answers that were 5xx, by process. Alert HighErrorRatio at 5%.", "percentunit", [
        [errorRatio, "{{job}}"],
      ], THIRD),
    )
    .withPanel(
      graph("p99 latency", "99th percentile of the time to answer, by process.", "s", [
        [quantile(0.99, "http_request_duration_seconds", "job"), "{{job}}"],
      ], THIRD),
    )
    .withPanel(
      graph("Events published and consumed", "Events the broker confirmed (relays) and events settled (consumers), per second.", "ops", [
        [`sum by (job) (rate(events_published_total[${R}]))`, "published by {{job}}"],
        [`sum by (job) (rate(events_consumed_total[${R}]))`, "consumed by {{job}}"],
      ], THIRD),
    )
    .withPanel(
      graph("Event backlog", "Events waiting in the outboxes and messages ready on the work queues.", "short", [
        ["outbox_pending_messages", "outbox of {{job}}"],
        [`sum by (queue) (rabbitmq_queue_messages_ready{${WORK_QUEUES}})`, "queue {{queue}}"],
      ], THIRD),
    )
    .withPanel(
      graph("End-to-end event lag (p99)", "From an event's commit in one service to its commit in the other, by consumer.", "s", [
        [quantile(0.99, "events_end_to_end_lag_seconds", "job"), "{{job}}"],
      ], THIRD),
    );
}

function health(): dashboard.DashboardBuilder {
  const d = shopDashboard(
    "shop-health",
    "Service Health Status",
    "Whether each process and dependency is up and connected: scrapes, broker connections, MariaDB, restarts.",
  )
    .withRow(row("Processes"));
  return withUpStatus(d)
    .withPanel(graph("Scrape status (1 up, 0 down)", "Prometheus' scrape of every job. Alert ShopTargetDown after a minute at 0.", "none", [
      ["up", "{{job}}"],
    ], HALF))
    .withPanel(graph("Uptime", "Time since each process started: a drop is a restart.", "s", [
      [`time() - process_start_time_seconds{${SHOP}}`, "{{job}}"],
    ], HALF))
    .withRow(row("Dependencies"))
    .withPanel(graph("Broker connection (1 connected)", "Relays (APIs) and consumers connected to RabbitMQ. Alert BrokerDisconnected after a minute at 0.", "none", [
      ["amqp_connected", "{{job}} {{component}}"],
    ], THIRD))
    .withPanel(graph("Broker connect failures", "Failed attempts to connect to RabbitMQ per second, by process.", "ops", [
      [`sum by (job, component) (rate(amqp_connect_failures_total[${R}]))`, "{{job}} {{component}}"],
    ], THIRD))
    .withPanel(graph("MariaDB up", "mysqld_exporter reaches MariaDB (1) or not (0). Alert MariaDBDown.", "none", [
      ["mysql_up", "MariaDB"],
    ], THIRD))
    .withPanel(graph("Scrape duration", "How long each scrape of /metrics took.", "s", [
      ["scrape_duration_seconds", "{{job}}"],
    ], HALF))
    .withPanel(graph("RabbitMQ connections and consumers", "Connections open on the broker, and consumers on the work queues.", "short", [
      ["sum(rabbitmq_connections)", "connections"],
      [`sum by (queue) (rabbitmq_queue_consumers{${WORK_QUEUES}})`, "consumers on {{queue}}"],
    ], HALF));
}

function database(): dashboard.DashboardBuilder {
  return shopDashboard(
    "shop-database",
    "Database Performance",
    "Query latency by query name, connection pools, and MariaDB's own view (mysqld_exporter).",
  )
    .withRow(row("Queries"))
    .withPanel(graph("Query p99 by query", "99th percentile of db_query_duration_seconds, by query name and process.", "s", [
      [quantile(0.99, "db_query_duration_seconds", "job, query"), "{{job}} {{query}}"],
    ], HALF))
    .withPanel(graph("Queries per second by query", "Database queries run, by query name and process.", "ops", [
      [`sum by (job, query) (rate(db_query_duration_seconds_count[${R}]))`, "{{job}} {{query}}"],
    ], HALF))
    .withRow(row("Pools"))
    .withPanel(graph("Pool connections in use", "Connections checked out of each process's pool, and the pool's size.", "short", [
      ['db_pool_connections{state="in_use"}', "{{job}} in use"],
      ['db_pool_connections{state="max"}', "{{job}} max"],
    ], THIRD))
    .withPanel(graph("Pool use", "In use over the pool's size. Alert DatabasePoolSaturated at 90% for 5 minutes.", "percentunit", [
      ['db_pool_connections{state="in_use"} / ignoring (state) db_pool_connections{state="max"}', "{{job}}"],
    ], THIRD))
    .withPanel(graph("Transactions rolled back, connections discarded", "Work cancelled half way and rolled back on release (should stay 0), and connections closed by the release check.", "ops", [
      [`sum by (job, reason) (rate(db_transactions_rolled_back_total[${R}]))`, "{{job}} rolled back ({{reason}})"],
      [`sum by (job, reason) (rate(db_connections_discarded_total[${R}]))`, "{{job}} discarded ({{reason}})"],
    ], THIRD))
    .withRow(row("MariaDB"))
    .withPanel(graph("Connections", "Client connections to MariaDB, and its limit.", "short", [
      ["mysql_global_status_threads_connected", "connected"],
      ["mysql_global_status_threads_running", "running"],
      ["mysql_global_variables_max_connections", "max_connections"],
    ], QUARTER))
    .withPanel(graph("Statements per second", "Statements MariaDB executed per second.", "ops", [
      [`rate(mysql_global_status_queries[${R}])`, "statements"],
    ], QUARTER))
    .withPanel(graph("Slow queries", "Queries over long_query_time per second.", "ops", [
      [`rate(mysql_global_status_slow_queries[${R}])`, "slow queries"],
    ], QUARTER))
    .withPanel(graph("InnoDB row lock waits", "Row lock waits per second, and the time spent waiting.", "ops", [
      [`rate(mysql_global_status_innodb_row_lock_waits[${R}])`, "waits"],
    ], QUARTER));
}

function api(): dashboard.DashboardBuilder {
  return shopDashboard(
    "shop-api",
    "API Performance",
    "HTTP traffic and latency by route on admin-api and main-api.",
  )
    .withPanel(graph("Requests per second by route", "Answers per second, by process, method and route pattern.", "reqps", [
      [`sum by (job, method, route) (rate(http_requests_total{${APIS}}[${R}]))`, "{{job}} {{method}} {{route}}"],
    ], FULL))
    .withPanel(graph("p50 by route", "Median time to answer.", "s", [
      [quantile(0.5, "http_request_duration_seconds", "job, method, route", APIS), "{{job}} {{method}} {{route}}"],
    ], THIRD))
    .withPanel(graph("p95 by route", "95th percentile of the time to answer.", "s", [
      [quantile(0.95, "http_request_duration_seconds", "job, method, route", APIS), "{{job}} {{method}} {{route}}"],
    ], THIRD))
    .withPanel(graph("p99 by route", "99th percentile of the time to answer. Alert HighRouteLatencyP99 over 500 ms for 10 minutes.", "s", [
      [quantile(0.99, "http_request_duration_seconds", "job, method, route", APIS), "{{job}} {{method}} {{route}}"],
    ], THIRD))
    .withPanel(graph("Answers by status", "Answers per second, by process and status code.", "reqps", [
      [`sum by (job, status) (rate(http_requests_total{${APIS}}[${R}]))`, "{{job}} {{status}}"],
    ], HALF))
    .withPanel(graph("Clients that hung up", "Requests whose client left before the answer (the work still ran to its end), by route.", "reqps", [
      [`sum by (job, method, route) (rate(http_requests_abandoned_total[${R}]))`, "{{job}} {{method}} {{route}}"],
    ], HALF));
}

function rabbitmq(): dashboard.DashboardBuilder {
  return shopDashboard(
    "shop-rabbitmq",
    "RabbitMQ Queue Metrics",
    "RabbitMQ's own metrics (rabbitmq_prometheus, per queue from /metrics/per-object): depth, unacked, consumers, dead letters, rates.",
  )
    .withPanel(graph("Ready messages by queue", "Messages waiting to be delivered, per work queue.", "short", [
      [`sum by (queue) (rabbitmq_queue_messages_ready{${WORK_QUEUES}})`, "{{queue}}"],
    ], HALF))
    .withPanel(graph("Unacked messages by queue", "Messages delivered to a consumer and not yet acknowledged (at most CONSUMER_PREFETCH per consumer).", "short", [
      [`sum by (queue) (rabbitmq_queue_messages_unacked{${WORK_QUEUES}})`, "{{queue}}"],
    ], HALF))
    .withPanel(graph("Consumers by queue", "Consumers attached to each work queue.", "short", [
      [`sum by (queue) (rabbitmq_queue_consumers{${WORK_QUEUES}})`, "{{queue}}"],
    ], THIRD))
    .withPanel(graph("Dead-letter depth", "Messages waiting in the dead-letter queues. Alert DeadLettersPresent.", "short", [
      [`sum by (queue) (rabbitmq_queue_messages{${DLQ}})`, "{{queue}}"],
    ], THIRD))
    .withPanel(graph("Messages in per second", "Messages published into each queue.", "ops", [
      [`sum by (queue) (rate(rabbitmq_queue_messages_published_total[${R}]))`, "{{queue}}"],
    ], THIRD))
    .withPanel(graph("Connections and channels", "Client connections and channels open on the broker.", "short", [
      ["sum(rabbitmq_connections)", "connections"],
      ["sum(rabbitmq_channels)", "channels"],
    ], HALF))
    .withPanel(graph("Broker memory", "Resident memory of the broker, and its high watermark.", "bytes", [
      ["rabbitmq_process_resident_memory_bytes", "resident"],
      ["rabbitmq_resident_memory_limit_bytes", "watermark"],
    ], HALF));
}

function errors(): dashboard.DashboardBuilder {
  return shopDashboard(
    "shop-errors",
    "Error Rate",
    "Everything that went wrong, by process and reason: HTTP errors, publish failures, retries, dead letters, hang-ups.",
  )
    .withPanel(single("admin-api 5xx share", "Share of admin-api's answers that were 5xx over the last 5 minutes.", "percentunit", [
      ['sum(rate(http_requests_total{job="admin-api", status=~"5.."}[5m])) / sum(rate(http_requests_total{job="admin-api"}[5m]))', "admin-api"],
    ], 0.01, 0.05, { w: 6, h: 4 }))
    .withPanel(single("main-api 5xx share", "Share of main-api's answers that were 5xx over the last 5 minutes.", "percentunit", [
      ['sum(rate(http_requests_total{job="main-api", status=~"5.."}[5m])) / sum(rate(http_requests_total{job="main-api"}[5m]))', "main-api"],
    ], 0.01, 0.05, { w: 6, h: 4 }))
    .withPanel(single("Dead letters waiting", "Messages in the dead-letter queues.", "short", [
      [`sum(rabbitmq_queue_messages{${DLQ}})`, "dead letters"],
    ], 1, 1, { w: 6, h: 4 }))
    .withPanel(single("Spans dropped (1 h)", "Trace spans dropped in the last hour.", "short", [
      ["sum(increase(otel_spans_dropped_total[1h]))", "spans dropped"],
    ], 1, 100, { w: 6, h: 4 }))
    .withPanel(graph("5xx share by process", "Share of answers that were 5xx. Alert HighErrorRatio at 5% for 5 minutes.", "percentunit", [
      [errorRatio, "{{job}}"],
    ], HALF))
    .withPanel(graph("4xx and 5xx by route", "Client and server errors per second, by route and status.", "reqps", [
      [`sum by (job, route, status) (rate(http_requests_total{status=~"[45].."}[${R}]))`, "{{job}} {{route}} {{status}}"],
    ], HALF))
    .withPanel(graph("Publish failures by reason", "Publishes the broker did not confirm (retried, never lost): unroutable, nack, broker.", "ops", [
      [`sum by (job, reason) (rate(events_publish_failures_total[${R}]))`, "{{job}} {{reason}}"],
    ], THIRD))
    .withPanel(graph("Retries by reason", "Failed attempts to apply an event: database_unavailable (held), handler_error (3 attempts).", "ops", [
      [`sum by (job, reason) (rate(events_retried_total[${R}]))`, "{{job}} {{reason}}"],
    ], THIRD))
    .withPanel(graph("Dead-lettered by reason", "Messages rejected into the dead-letter queue, by event and reason.", "ops", [
      [`sum by (job, event, reason) (rate(events_dead_lettered_total[${R}]))`, "{{job}} {{event}} {{reason}}"],
    ], THIRD))
    .withPanel(graph("Spans dropped by reason", "Trace spans dropped per second: queue_full, export_failed.", "ops", [
      [`sum by (job, reason) (rate(otel_spans_dropped_total[${R}]))`, "{{job}} {{reason}}"],
    ], HALF))
    .withPanel(graph("Clients that hung up", "Requests abandoned by their client per second.", "reqps", [
      [`sum by (job, route) (rate(http_requests_abandoned_total[${R}]))`, "{{job}} {{route}}"],
    ], HALF));
}

function resources(): dashboard.DashboardBuilder {
  return shopDashboard(
    "shop-resources",
    "Service Resource Usage",
    "CPU, memory and file descriptors of each of the shop's four processes (the standard process metrics). RabbitMQ's memory is on RabbitMQ Queue Metrics.",
  )
    .withPanel(graph("CPU", "CPU seconds per second (1 = one core), by process.", "percentunit", [
      [`rate(process_cpu_seconds_total{${SHOP}}[${R}])`, "{{job}}"],
    ], HALF))
    .withPanel(graph("Resident memory", "Resident set size, by process.", "bytes", [
      [`process_resident_memory_bytes{${SHOP}}`, "{{job}}"],
    ], HALF))
    .withPanel(graph("Open file descriptors", "File descriptors (sockets included) open, by process.", "short", [
      [`process_open_fds{${SHOP}}`, "{{job}}"],
    ], THIRD))
    .withPanel(graph("File descriptors used", "Open over the limit (ulimit -n), by process.", "percentunit", [
      [`process_open_fds{${SHOP}} / process_max_fds{${SHOP}}`, "{{job}}"],
    ], THIRD))
    .withPanel(graph("Virtual memory", "Virtual memory size, by process.", "bytes", [
      [`process_virtual_memory_bytes{${SHOP}}`, "{{job}}"],
    ], THIRD));
}

// The pipeline's panels are shorter, so that its five stages fit on one screen.
const short = (size: Size): Size => ({ ...size, h: 6 });

function pipeline(): dashboard.DashboardBuilder {
  return shopDashboard(
    "shop-event-pipeline",
    "Event pipeline",
    "One event's way, left to right and top to bottom: the outbox, publishing, the queue, the consumer, and the lag from commit to commit.",
  )
    .withRow(row("1. Outbox (admin-api, main-api)"))
    .withPanel(graph("Pending events", "Outbox rows not yet confirmed by the broker. Alert OutboxBacklogGrowing.", "short", [
      ["outbox_pending_messages", "{{job}}"],
    ], short(THIRD)))
    .withPanel(graph("Oldest pending event", "Age of the oldest unpublished outbox row, 0 when none. Alert OutboxEventsOld over a minute.", "s", [
      ["outbox_oldest_pending_age_seconds", "{{job}}"],
    ], short(THIRD)))
    .withPanel(graph("Commit to broker confirm (p99)", "outbox_delivery_lag_seconds: from the write's commit to the broker's confirm.", "s", [
      [quantile(0.99, "outbox_delivery_lag_seconds", "job"), "{{job}}"],
    ], short(THIRD)))
    .withRow(row("2. Publish"))
    .withPanel(graph("Published by event", "Events the broker confirmed per second.", "ops", [
      [`sum by (job, event) (rate(events_published_total[${R}]))`, "{{job}} {{event}}"],
    ], short(HALF)))
    .withPanel(graph("Publish failures by reason", "Publishes not confirmed (retried): unroutable, nack, broker.", "ops", [
      [`sum by (job, reason) (rate(events_publish_failures_total[${R}]))`, "{{job}} {{reason}}"],
    ], short(HALF)))
    .withRow(row("3. Queue (RabbitMQ)"))
    .withPanel(graph("Ready", "Messages waiting on each work queue.", "short", [
      [`sum by (queue) (rabbitmq_queue_messages_ready{${WORK_QUEUES}})`, "{{queue}}"],
    ], short(THIRD)))
    .withPanel(graph("Unacked", "Messages delivered and not yet acknowledged.", "short", [
      [`sum by (queue) (rabbitmq_queue_messages_unacked{${WORK_QUEUES}})`, "{{queue}}"],
    ], short(THIRD)))
    .withPanel(graph("Consumers", "Consumers on each work queue.", "short", [
      [`sum by (queue) (rabbitmq_queue_consumers{${WORK_QUEUES}})`, "{{queue}}"],
    ], short(THIRD)))
    .withRow(row("4. Consume (admin-consumer, main-consumer)"))
    .withPanel(graph("Consumed by outcome", "Messages settled per second: applied, ignored, duplicate, dead_lettered.", "ops", [
      [`sum by (job, outcome) (rate(events_consumed_total[${R}]))`, "{{job}} {{outcome}}"],
    ], short(QUARTER)))
    .withPanel(graph("Retries", "Failed attempts per second, by reason. Alert ConsumerRetryStorm.", "ops", [
      [`sum by (job, reason) (rate(events_retried_total[${R}]))`, "{{job}} {{reason}}"],
    ], short(QUARTER)))
    .withPanel(graph("Dead letters", "Messages waiting in the dead-letter queues (alert DeadLettersPresent), and dead-lettered per second.", "short", [
      [`sum by (queue) (rabbitmq_queue_messages{${DLQ}})`, "waiting in {{queue}}"],
      [`sum by (job) (rate(events_dead_lettered_total[${R}]))`, "dead-lettered/s by {{job}}"],
    ], short(QUARTER)))
    .withPanel(graph("Processing time (p99)", "From taking a delivery to its ack.", "s", [
      [quantile(0.99, "event_processing_seconds", "job"), "{{job}}"],
    ], short(QUARTER)))
    .withRow(row("5. End to end"))
    .withPanel(graph("Commit to commit lag", "events_end_to_end_lag_seconds: from the event's commit in one service to its commit in the other. Alert EventDeliveryLagHigh over 10 s (p99).", "s", [
      [quantile(0.5, "events_end_to_end_lag_seconds", "job", CONSUMERS), "p50 {{job}}"],
      [quantile(0.99, "events_end_to_end_lag_seconds", "job", CONSUMERS), "p99 {{job}}"],
    ], short(FULL)))
    .withRow(row("6. Drift (shop-repair watch)"))
    .withPanel(graph("Drift between shop and catalogue", "What the last drift check (job catalogue-drift, every 5 minutes) found that no event will fix: products missing, stale or extra in the shop's mirror, and catalogue like counts that differ from the shop's likes. Alert CatalogueDrift after 15 minutes; docs/operating/backup-and-repair.md.", "short", [
      ["sum by (kind) (catalogue_drift_products)", "products {{kind}}"],
      ["sum(catalogue_drift_like_counts)", "like counts"],
    ], short(HALF)))
    .withPanel(graph("Drift check", "1 when the last check read both databases, 0 when it failed; and the time since the last check ended.", "short", [
      ["min(catalogue_drift_check_success)", "check succeeded"],
      ["time() - max(catalogue_drift_last_check_timestamp_seconds)", "seconds since the last check"],
    ], short(HALF)));
}

/** Every dashboard and the file it is provisioned from. */
export const DASHBOARDS: { file: string; build: () => dashboard.DashboardBuilder }[] = [
  { file: "overview.json", build: overview },
  { file: "health.json", build: health },
  { file: "database.json", build: database },
  { file: "api.json", build: api },
  { file: "rabbitmq.json", build: rabbitmq },
  { file: "errors.json", build: errors },
  { file: "resources.json", build: resources },
  { file: "event-pipeline.json", build: pipeline },
];
