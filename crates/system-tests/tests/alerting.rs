//! Alerts that reach a person: a real Prometheus runs the committed rules (alerts.yml, with
//! every `for:` 30 times shorter and the thresholds of [`THRESHOLDS`], generated here, not a
//! hand-kept copy) against the live stack and sends to a real Alertmanager running the
//! committed alertmanager.yml (only its timings and the two webhook URLs replaced), whose
//! receivers post to a webhook listener of this test. Then things break for real:
//!
//! 1. the stack's own RabbitMQ node stops (never the machine's broker): "rabbitmq is down"
//!    reaches the page receiver, its symptoms (every process disconnected, an event left in
//!    admin-api's outbox) fire in Prometheus but are inhibited in Alertmanager and reach
//!    no one while the broker is away; the node starts again: the page is resolved;
//! 2. an undecodable message on main-consumer's queue is dead-lettered: the dead-letter
//!    alert reaches the ticket receiver, naming the queue; the dead letter is discarded: it
//!    is resolved.
//!
//! Run by `scripts/monitoring.sh` (which installs prometheus, prometheus-alertmanager and
//! prometheus-mysqld-exporter): `cargo test -p system-tests --test alerting -- --ignored`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use lapin::BasicProperties;
use lapin::types::ShortString;
use serde_json::Value;
use testkit::alerting::{Alertmanager, Notification, WebhookReceiver};
use testkit::monitoring::{MysqldExporter, Prometheus, monitoring_dir};
use testkit::{NodeOptions, Overrides, Proc, RabbitNode, ShopStack, WAIT, eventually};

/// How much shorter every `for:` of alerts.yml is here: a minute is 2 s.
const FOR_DIVISOR: u64 = 30;

/// Thresholds that are durations themselves, which a shorter `for:` alone would not bring
/// within the test's time: (alert, as alerts.yml has it, as the test runs it).
const THRESHOLDS: &[(&str, &str, &str)] = &[(
    "OutboxEventsOld",
    "outbox_oldest_pending_age_seconds > 60",
    "outbox_oldest_pending_age_seconds > 3",
)];

/// The symptoms a broker that is down causes, which must reach no one while it is down.
const BROKER_SYMPTOMS: &[&str] = &[
    "BrokerDisconnected",
    "OutboxEventsOld",
    "OutboxBacklogGrowing",
    "EventPublishFailures",
    "EventDeliveryLagHigh",
    "ConsumerRetryStorm",
];

/// Seconds in a Prometheus duration of one unit (`90s`, `1m`, `10m`, `1h`).
fn seconds(duration: &str) -> u64 {
    let (n, unit) = duration.split_at(duration.len() - 1);
    let n: u64 = n
        .parse()
        .unwrap_or_else(|_| panic!("unknown duration {duration:?}"));
    match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => panic!("unknown duration {duration:?}"),
    }
}

/// alerts.yml as this test runs it: each `for: D` becomes `for: D/30` (at least 1 s, at most
/// 20 s: a rule that waits 15 minutes, like CatalogueDrift, would hold the test), and
/// each of [`THRESHOLDS`] is replaced (it must be there).
fn fast_rules(alerts: &str) -> String {
    let mut out: String = alerts
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            match trimmed.strip_prefix("for: ") {
                Some(d) => {
                    let indent = &line[..line.len() - trimmed.len()];
                    let fast = (seconds(d.trim()) / FOR_DIVISOR).clamp(1, 20);
                    format!("{indent}for: {fast}s\n")
                }
                None => format!("{line}\n"),
            }
        })
        .collect();
    for (alert, from, to) in THRESHOLDS {
        assert!(
            out.contains(from),
            "alerts.yml's {alert} no longer has {from:?}: update THRESHOLDS in the alerting test"
        );
        out = out.replace(from, to);
    }
    out
}

/// `text` with each `from` replaced by its `to`, each of which must be there.
fn replaced(mut text: String, what: &str, pairs: &[(&str, String)]) -> String {
    for (from, to) in pairs {
        assert!(
            text.contains(from),
            "{what} no longer has {from:?}: update the alerting test with it"
        );
        text = text.replace(from, to);
    }
    text
}

/// The committed alertmanager.yml with the test's timings (a group is told 5 s after its
/// first alert, changes every 2 s) and both receivers posting to `hook`.
fn alertmanager_config(hook: &WebhookReceiver) -> String {
    let text = std::fs::read_to_string(monitoring_dir().join("alertmanager.yml")).unwrap();
    replaced(
        text,
        "alertmanager.yml",
        &[
            ("group_wait: 30s", "group_wait: 5s".to_owned()),
            ("group_interval: 5m", "group_interval: 2s".to_owned()),
            ("http://page-webhook.invalid/alerts", hook.url("page")),
            ("http://ticket-webhook.invalid/alerts", hook.url("ticket")),
        ],
    )
}

/// The committed prometheus.yml with each compose target moved to the local process, a 1 s
/// scrape and evaluation, the fast rules, and the local Alertmanager.
fn prometheus_config(targets: &[(&str, String)], rules: &Path) -> String {
    let text = std::fs::read_to_string(monitoring_dir().join("prometheus.yml")).unwrap();
    let mut pairs: Vec<(&str, String)> = targets
        .iter()
        .map(|(from, to)| (*from, to.clone()))
        .collect();
    pairs.extend([
        ("scrape_interval: 15s", "scrape_interval: 1s".to_owned()),
        (
            "evaluation_interval: 15s",
            "evaluation_interval: 1s".to_owned(),
        ),
        ("- alerts.yml", format!("- {}", rules.display())),
    ]);
    replaced(text, "prometheus.yml", &pairs)
}

/// The first notification to `receiver` holding `alertname` in `status` whose labels pass
/// `labels_ok`.
fn told(
    hook: &WebhookReceiver,
    receiver: &str,
    alertname: &str,
    status: &str,
    labels_ok: impl Fn(&Value) -> bool,
) -> Option<(Notification, Value)> {
    hook.received().into_iter().find_map(|n| {
        if n.path != receiver || n.body["receiver"] != receiver {
            return None;
        }
        let alert = n.body["alerts"].as_array()?.iter().find(|a| {
            a["labels"]["alertname"] == alertname
                && a["status"] == status
                && labels_ok(&a["labels"])
        })?;
        let alert = alert.clone();
        Some((n, alert))
    })
}

fn host_port(base_url: &str) -> String {
    testkit::hangup::addr_of(base_url).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "alerting check: run by scripts/monitoring.sh (needs prometheus, prometheus-alertmanager, mysqld_exporter)"]
async fn a_broker_down_pages_once_and_a_poisoned_message_opens_a_ticket() {
    let started = Instant::now();
    // The node's queue metrics every second (5 s by default), so the dead letter shows soon.
    let node = RabbitNode::create(NodeOptions {
        prometheus: true,
        conf: "collect_statistics_interval = 1000\n".to_owned(),
        ..NodeOptions::default()
    });
    let (_, exporter, hook) = tokio::join!(
        node.boot(),
        MysqldExporter::start(),
        WebhookReceiver::start()
    );
    // Every process retries the broker at least every half second (10 s by default), so
    // the relay's outbox gauges stay current while it is away, and it is back at once.
    let mut overrides = Overrides::new();
    for p in Proc::ALL {
        overrides.insert(p, vec![("AMQP_RECONNECT_MAX_MS", "500".to_owned())]);
    }
    let (amqp_url, am_config) = (node.amqp_url(), alertmanager_config(&hook));
    let (stack, am) = tokio::join!(
        ShopStack::start(&amqp_url, overrides),
        Alertmanager::start(&am_config)
    );

    let rules = std::env::temp_dir().join(format!("{}.yml", testkit::unique("alerting-rules")));
    let alerts = std::fs::read_to_string(monitoring_dir().join("alerts.yml")).unwrap();
    std::fs::write(&rules, fast_rules(&alerts)).unwrap();
    let prom_port = testkit::free_port();
    let local = |p: Proc| host_port(&stack.svc(p).base_url);
    let targets = [
        (
            "\"admin-api:8000\"",
            format!("\"{}\"", local(Proc::AdminApi)),
        ),
        (
            "\"admin-consumer:8001\"",
            format!("\"{}\"", local(Proc::AdminConsumer)),
        ),
        ("\"main-api:5000\"", format!("\"{}\"", local(Proc::MainApi))),
        (
            "\"main-consumer:5001\"",
            format!("\"{}\"", local(Proc::MainConsumer)),
        ),
        (
            "\"rabbitmq:15692\"",
            format!("\"127.0.0.1:{}\"", node.prometheus_port.unwrap()),
        ),
        (
            "\"mysqld-exporter:9104\"",
            format!("\"127.0.0.1:{}\"", exporter.port),
        ),
        ("\"localhost:9090\"", format!("\"127.0.0.1:{prom_port}\"")),
        (
            "\"alertmanager:9093\"",
            format!("\"127.0.0.1:{}\"", am.port),
        ),
        // The drift watcher is not part of this test (monitoring.rs runs the real one): its
        // job scrapes admin-api instead, so that it is up and no ShopTargetDown pages for
        // it; CatalogueDrift has no data there and stays quiet.
        (
            "\"catalogue-drift:9105\"",
            format!("\"{}\"", local(Proc::AdminApi)),
        ),
    ];
    let prom = Prometheus::start(&prometheus_config(&targets, &rules), prom_port).await;

    // Healthy first: every target up, Prometheus sending to the Alertmanager.
    eventually(Duration::from_secs(60), "every target up", || async {
        let data = prom.api("targets", &[("state", "active")]).await.ok()?;
        let active = data["activeTargets"].as_array()?.clone();
        (active.len() == 8 && active.iter().all(|t| t["health"] == "up")).then_some(())
    })
    .await;
    eventually(
        Duration::from_secs(30),
        "Prometheus sees the Alertmanager",
        || async {
            let data = prom.api("alertmanagers", &[]).await.ok()?;
            (!data["activeAlertmanagers"].as_array()?.is_empty()).then_some(())
        },
    )
    .await;
    let healthy = Instant::now();
    let mut problems = Vec::new();

    // 1. The broker stops. A write while it is away waits in admin-api's outbox.
    tokio::task::block_in_place(|| node.stop());
    let stopped = Instant::now();
    let id = stack
        .client
        .create("Written while the broker is away", "/away.png")
        .await;
    let is_rabbitmq = |l: &Value| l["job"] == "rabbitmq";
    let (page, alert) = eventually(
        Duration::from_secs(60),
        "the page: rabbitmq is down",
        || async { told(&hook, "page", "ShopTargetDown", "firing", is_rabbitmq) },
    )
    .await;
    let paged_after = page.at - stopped;
    assert_eq!(page.body["groupLabels"]["alertname"], "ShopTargetDown");
    assert_eq!(
        alert["annotations"]["runbook_url"],
        "grafana-prometheus/RUNBOOK.md#shoptargetdown"
    );

    // Its symptoms fire in Prometheus and are held back by Alertmanager, inhibited.
    let suppressed = eventually(
        Duration::from_secs(60),
        "the symptoms inhibited",
        || async {
            let alerts = am.alerts().await.ok()?;
            let inhibited = |name: &str| {
                alerts.iter().any(|a| {
                    a["labels"]["alertname"] == name
                        && a["status"]["state"] == "suppressed"
                        && !a["status"]["inhibitedBy"]
                            .as_array()
                            .is_none_or(Vec::is_empty)
                })
            };
            let outbox_old = alerts.iter().any(|a| {
                a["labels"]["alertname"] == "OutboxEventsOld" && a["labels"]["job"] == "admin-api"
            });
            (outbox_old && inhibited("OutboxEventsOld") && inhibited("BrokerDisconnected"))
                .then_some(alerts)
        },
    )
    .await;
    let held: Vec<String> = suppressed
        .iter()
        .filter(|a| a["status"]["state"] == "suppressed")
        .map(|a| format!("{}{{job={}}}", a["labels"]["alertname"], a["labels"]["job"]))
        .collect();
    let inhibited_after = stopped.elapsed();
    // Long enough for a group of theirs to have been told (they are in Alertmanager: a new
    // group is told 5 s after its first alert), with the broker still away.
    tokio::time::sleep(Duration::from_secs(6)).await;
    for n in hook.received() {
        for (name, status, labels) in n.alerts() {
            if BROKER_SYMPTOMS.contains(&name.as_str()) {
                problems.push(format!(
                    "{name} ({status}) reached {} while the broker was down: {labels}",
                    n.path
                ));
            }
        }
    }

    // The broker is back: the page is resolved, the event written meanwhile is published.
    let restarted = Instant::now();
    node.boot().await;
    let booted = Instant::now();
    let (resolved, _) = eventually(Duration::from_secs(60), "the page resolved", || async {
        told(&hook, "page", "ShopTargetDown", "resolved", is_rabbitmq)
    })
    .await;
    eventually(WAIT, "the write made while away reaches the shop", || {
        stack.client.shop_product(id)
    })
    .await;

    // 2. A message main-consumer cannot decode is dead-lettered: a ticket naming its queue.
    let dlq = shop_runtime::amqp::dead_letter_queue(&stack.main_queue);
    let broker = stack.broker().await;
    broker
        .publish(
            &stack.main_queue,
            BasicProperties::default()
                .with_content_type("product_created".into())
                .with_message_id(ShortString::from("alerting-poison"))
                .with_delivery_mode(2),
            b"{this is not json",
        )
        .await;
    let poisoned = Instant::now();
    let in_dlq = |l: &Value| l["queue"] == dlq.as_str();
    let (ticket, alert) = eventually(
        Duration::from_secs(60),
        "the ticket: dead letters",
        || async { told(&hook, "ticket", "DeadLettersPresent", "firing", in_dlq) },
    )
    .await;
    let ticketed_after = ticket.at - poisoned;
    assert_eq!(alert["labels"]["severity"], "warning");
    assert_eq!(
        alert["annotations"]["runbook_url"],
        "grafana-prometheus/RUNBOOK.md#deadletterspresent"
    );
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains(dlq.as_str())),
        "the summary names the queue: {alert}"
    );

    // Discarded (taken off the queue, as `main-consumer dead-letters discard` does): resolved.
    assert_eq!(broker.take(&dlq, 1, WAIT).await.len(), 1);
    eventually(Duration::from_secs(60), "the ticket resolved", || async {
        told(&hook, "ticket", "DeadLettersPresent", "resolved", in_dlq)
    })
    .await;

    // What else was told after the broker came back (symptoms that outlived their cause),
    // for the record.
    let after: Vec<String> = hook
        .received()
        .iter()
        .filter(|n| n.at > booted)
        .flat_map(|n| {
            n.alerts()
                .into_iter()
                .map(|(name, status, labels)| {
                    format!("{} {name} {status} {}", n.path, labels["job"])
                })
                .collect::<Vec<_>>()
        })
        .collect();

    prom.stop().await;
    drop(am);
    drop(exporter);
    stack.stop().await;
    drop(node);
    let _ = std::fs::remove_file(&rules);
    eprintln!(
        "alerting: held back while the broker was down: {}",
        held.join(", ")
    );
    eprintln!(
        "alerting: told after the broker came back: {}",
        after.join("; ")
    );
    eprintln!(
        "alerting: paged {:.1} s after the broker stopped, symptoms seen inhibited after {:.1} s; \
         the node booted again in {:.1} s, resolved {:.1} s after; ticket {:.1} s after the \
         poisoned message; {:.1} s in all ({:.1} s to a healthy stack)",
        paged_after.as_secs_f64(),
        inhibited_after.as_secs_f64(),
        (booted - restarted).as_secs_f64(),
        (resolved.at - booted).as_secs_f64(),
        ticketed_after.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        (healthy - started).as_secs_f64(),
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn the_fast_rules_shorten_every_for_and_replace_each_threshold() {
    let committed = std::fs::read_to_string(monitoring_dir().join("alerts.yml")).unwrap();
    let fast = fast_rules(&committed);
    let count = |text: &str, what: &str| text.lines().filter(|l| l.contains(what)).count();
    assert_eq!(count(&fast, "- alert: "), count(&committed, "- alert: "));
    assert_eq!(count(&fast, "for: "), count(&committed, "for: "));
    for line in fast.lines().filter(|l| l.trim_start().starts_with("for: ")) {
        let d = line.trim_start().trim_start_matches("for: ");
        assert!(d.ends_with('s') && seconds(d) <= 20, "{line}");
    }
    for (_, from, to) in THRESHOLDS {
        assert!(!fast.contains(from) && fast.contains(to));
    }
    let sample = "  - alert: A\n    expr: x > 1\n    for: 10m\n  - alert: B\n    for: 1m\n    for: 30s\n    for: 15m\n";
    assert_eq!(
        fast_rules(&sample.replace("x > 1", "outbox_oldest_pending_age_seconds > 60")),
        "  - alert: A\n    expr: outbox_oldest_pending_age_seconds > 3\n    for: 20s\n  - alert: B\n    for: 2s\n    for: 1s\n    for: 20s\n"
    );
    assert_eq!(seconds("1h"), 3600);
}

#[test]
#[should_panic(expected = "no longer has")]
fn a_threshold_gone_from_alerts_yml_fails_loudly() {
    fast_rules("groups: []\n");
}
