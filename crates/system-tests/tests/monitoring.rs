//! `grafana-prometheus/` against the live stack: a real Prometheus (Debian's) runs the
//! committed `prometheus.yml`, with each target moved to the local port of the same process
//! and the committed `alerts.yml`; it must find every target up, and every PromQL expression
//! of the dashboards and the alert rules must parse and name only metrics that the live
//! stack exports. A renamed metric breaks this test, not a dashboard in production.
//!
//! The stack: the four processes (testkit's `ShopStack`), a RabbitMQ node of the test's own
//! with the `rabbitmq_prometheus` plugin (the machine's broker is never reconfigured), and
//! mysqld_exporter in front of the machine's MariaDB, and the drift watcher (`shop-repair
//! watch`, job catalogue-drift) on the stack's two databases. Traffic makes the families that only
//! appear after something happens: writes, likes and their events, a 404, a client that
//! hangs up, and an event that fails three times and is dead-lettered.
//!
//! Run by `scripts/monitoring.sh` (which installs prometheus and mysqld_exporter):
//! `cargo test -p system-tests --test monitoring -- --ignored --nocapture`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use lapin::BasicProperties;
use lapin::types::ShortString;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::hangup::{HangUp, Write, addr_of, hang_up};
use testkit::monitoring::{MysqldExporter, Prometheus, monitoring_dir};
use testkit::{Proc, RabbitNode, ShopStack, WAIT, eventually};

/// Families that appear only after an event this test does not cause, each with the reason.
/// Keep it short: never a family the stack should always export.
const ONLY_AFTER_A_FAULT: &[(&str, &str)] = &[
    (
        "events_publish_failures_total",
        "a publish the broker refused or lost: needs the broker to fail mid-publish (the fault suite's broker restart)",
    ),
    (
        "amqp_connect_failures_total",
        "a failed connection to the broker: needs the broker away (the fault suite)",
    ),
    (
        "db_transactions_rolled_back_total",
        "a transaction left open on a released connection, which must never happen",
    ),
    (
        "db_connections_discarded_total",
        "a connection that failed the release check: needs the database to fail (the hang-up and fault suites)",
    ),
    (
        "otel_spans_dropped_total",
        "spans dropped because the exporter's queue was full or the trace backend failed",
    ),
];

/// PromQL words that are not metric names: aggregations, operators, modifiers.
const KEYWORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "atan2",
    "inf",
    "nan",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Skips a quoted string starting at `i` (the quote); the index after its closing quote.
fn skip_string(chars: &[char], i: usize) -> usize {
    let quote = chars[i];
    let mut j = i + 1;
    while j < chars.len() && chars[j] != quote {
        if chars[j] == '\\' && quote != '`' {
            j += 1;
        }
        j += 1;
    }
    j + 1
}

/// Skips from an opening `open` at `i` to after its matching `close`, over quoted strings
/// (a route pattern such as `"/api/products/{id}"` holds braces).
fn skip_group(chars: &[char], i: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    let mut j = i;
    while j < chars.len() {
        match chars[j] {
            '"' | '\'' | '`' => {
                j = skip_string(chars, j);
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// The series selectors of a PromQL expression: each metric name with the text of its label
/// matchers (empty without `{…}`). A metric name is an identifier that is not a function
/// (not followed by `(`), a keyword, a label name (in `{…}` or after `by`, `on`, …), a
/// string, a number or a duration.
fn selectors(expr: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = expr.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
        } else if c == '{' {
            i = skip_group(&chars, i, '{', '}');
        } else if c == '[' {
            i = skip_group(&chars, i, '[', ']');
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration (`5m`, `1e3`, `0x1f`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let followed_by_paren = chars.get(next) == Some(&'(');
            let lower = word.to_ascii_lowercase();
            if LABEL_LISTS.contains(&lower.as_str()) {
                if followed_by_paren {
                    i = skip_group(&chars, next, '(', ')');
                }
            } else if !KEYWORDS.contains(&lower.as_str()) && !followed_by_paren {
                let matchers = if chars.get(next) == Some(&'{') {
                    i = skip_group(&chars, next, '{', '}');
                    chars[next + 1..i - 1].iter().collect()
                } else {
                    String::new()
                };
                found.push((word, matchers));
            }
        } else {
            i += 1;
        }
    }
    found
}

/// The metric names a PromQL expression selects.
fn metric_names(expr: &str) -> BTreeSet<String> {
    selectors(expr).into_iter().map(|(name, _)| name).collect()
}

/// The jobs a selector's matchers name: `job="a"` or `job=~"a|b"` of plain names (`None`
/// for no job matcher or another kind).
fn jobs_named(matchers: &str) -> Option<Vec<String>> {
    let at = matchers.find("job")?;
    let rest = matchers[at + 3..].trim_start();
    let rest = rest.strip_prefix("=~").or_else(|| rest.strip_prefix('='))?;
    let value = rest.trim_start().strip_prefix('"')?.split('"').next()?;
    let jobs: Vec<String> = value.split('|').map(str::to_owned).collect();
    jobs.iter()
        .all(|j| {
            !j.is_empty()
                && j.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .then_some(jobs)
}

/// Grafana's variables in an expression, replaced by what Grafana would send.
fn as_grafana_sends(expr: &str) -> Result<String, String> {
    let expr = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "1h");
    match expr.find('$') {
        Some(at) => Err(format!(
            "unknown variable at {:?}: add it to as_grafana_sends",
            &expr[at..]
        )),
        None => Ok(expr),
    }
}

/// Every query of every committed dashboard: (where, expression).
fn dashboard_queries() -> Vec<(String, String)> {
    let dir = monitoring_dir().join("grafana/dashboards");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards in {}", dir.display());
    let mut out = Vec::new();
    for file in files {
        let dash: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for panel in dash["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push((
                        format!(
                            "{} / {}",
                            dash["title"].as_str().unwrap_or("?"),
                            panel["title"].as_str().unwrap_or("?")
                        ),
                        expr.to_owned(),
                    ));
                }
            }
        }
    }
    out
}

/// The committed prometheus.yml with each compose target replaced by the local address of
/// the same process, a 1 s scrape and evaluation interval, and the rules by absolute path.
fn local_config(targets: &[(&str, String)]) -> String {
    let dir = monitoring_dir();
    let mut config = std::fs::read_to_string(dir.join("prometheus.yml")).unwrap();
    let mut replace = |from: &str, to: &str| {
        assert!(
            config.contains(from),
            "prometheus.yml no longer has {from:?}: update the monitoring test with it"
        );
        config = config.replace(from, to);
    };
    for (compose_target, local) in targets {
        replace(&format!("\"{compose_target}\""), &format!("\"{local}\""));
    }
    replace("scrape_interval: 15s", "scrape_interval: 1s");
    replace("evaluation_interval: 15s", "evaluation_interval: 1s");
    let rules = dir.join("alerts.yml").canonicalize().unwrap();
    replace("- alerts.yml", &format!("- {}", rules.display()));
    config
}

fn host_port(base_url: &str) -> String {
    addr_of(base_url).to_string()
}

/// Writes, likes, a 404, their events; then the families that need a mishap: a client that
/// hangs up, and an event whose handler fails three times (a title too long for the
/// mirror's column), retried and dead-lettered.
async fn traffic(stack: &ShopStack) {
    let c = &stack.client;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(c.create(&format!("Monitored {n}"), "/m.png").await);
    }
    assert_eq!(
        c.update(ids[0], "Monitored, again", "/m2.png").await,
        StatusCode::ACCEPTED
    );
    c.delete(ids[2]).await;
    for id in &ids[..2] {
        eventually(WAIT, "the product in the shop", || c.shop_product(*id)).await;
        assert_eq!(c.like(*id, &mut None).await, StatusCode::OK);
    }
    assert_eq!(
        c.like(ids[2] + 1000, &mut None).await,
        StatusCode::NOT_FOUND
    );
    eventually(WAIT, "likes counted in the catalogue", || async {
        testkit::seen(c.catalogue_product(ids[1]).await["likes"].clone(), |l| {
            l == 1
        })
    })
    .await;

    publish_unappliable(stack, "monitoring-too-long").await;
    eventually(WAIT, "the failing event dead-lettered", || async {
        let m = stack.metrics(Proc::MainConsumer).await;
        m.contains(
            r#"events_dead_lettered_total{event="product_created",reason="handler_error"} 1"#,
        )
        .then_some(())
    })
    .await;

    // A create whose client leaves as soon as the request is written: the server notices
    // the hang-up only if it has not answered yet, so try a few times.
    let admin = addr_of(&c.admin);
    eventually(WAIT, "a hang-up counted", || async {
        let mut stream = tokio::net::TcpStream::connect(admin).await.ok()?;
        hang_up(
            &mut stream,
            Write::Create,
            1,
            HangUp::AfterRequest,
            c.token.as_deref(),
        )
        .await;
        drop(stream);
        tokio::time::sleep(Duration::from_millis(50)).await;
        stack
            .metrics(Proc::AdminApi)
            .await
            .contains("http_requests_abandoned_total")
            .then_some(())
    })
    .await;
}

/// A product event the mirror cannot store (a title longer than its column): its handler
/// fails three times (`events_retried_total`), then it is dead-lettered.
async fn publish_unappliable(stack: &ShopStack, message_id: &str) {
    let body = json!({"id": 990_001, "title": "x".repeat(300), "image": "/i.png", "likes": 0, "version": 1});
    stack
        .broker()
        .await
        .publish(
            &stack.main_queue,
            BasicProperties::default()
                .with_content_type("product_created".into())
                .with_message_id(ShortString::from(message_id))
                .with_delivery_mode(2),
            &serde_json::to_vec(&body).unwrap(),
        )
        .await;
}

/// Steady traffic for the screenshots, for `seconds`: 8 shoppers liking and browsing, an
/// admin creating and updating a product a second, a 404 now and then, an unappliable event
/// every 30 s and a client that hangs up every 5 s.
async fn load(stack: &ShopStack, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let c = &stack.client;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(c.create(&format!("Screenshot {n}"), "/s.png").await);
    }
    let ids = &ids;
    let shoppers = (0..8u64).map(|s| async move {
        let mut n = s;
        while Instant::now() < deadline {
            n += 7;
            let _ = c.like(ids[(n % 10) as usize], &mut None).await;
            let _ = c.shop().await;
            if n.is_multiple_of(50) {
                let _ = c.like(999_999, &mut None).await;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    });
    let admin = async {
        let mut n = 0u64;
        while Instant::now() < deadline {
            n += 1;
            let id = c.create(&format!("Load {n}"), "/l.png").await;
            c.update(id, &format!("Load {n}, updated"), "/l2.png").await;
            let _ = c.catalogue().await;
            if n.is_multiple_of(30) {
                publish_unappliable(stack, &format!("screenshot-unappliable-{n}")).await;
            }
            if n.is_multiple_of(5)
                && let Ok(mut stream) = tokio::net::TcpStream::connect(addr_of(&c.admin)).await
            {
                hang_up(
                    &mut stream,
                    Write::Create,
                    n,
                    HangUp::AfterRequest,
                    c.token.as_deref(),
                )
                .await;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::join!(join_all(shoppers), admin);
}

/// Whether an expression may return nothing from the healthy stack after the traffic: an
/// alert's (nothing is wrong), a 5xx selection (nothing failed), or one of a family that
/// only a fault makes. Every other dashboard query must show data, so that a wrong label
/// value (`state="inuse"`, a queue pattern that matches nothing) fails here too.
fn may_be_empty(place: &str, expr: &str, only_after_a_fault: &BTreeSet<&str>) -> bool {
    place.starts_with("alert ")
        || expr.contains(r#"status=~"5..""#)
        || metric_names(expr)
            .iter()
            .any(|n| only_after_a_fault.contains(n.as_str()))
}

/// Names Prometheus has stored, once every family the checks need has been scraped (or
/// after `timeout`, for the caller to report what is missing).
async fn stored_names(
    prom: &Prometheus,
    wanted: &BTreeSet<String>,
    timeout: Duration,
) -> BTreeSet<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let names: BTreeSet<String> = prom
            .api("label/__name__/values", &[])
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if wanted.is_subset(&names) || Instant::now() > deadline {
            return names;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
#[ignore = "monitoring check: run by scripts/monitoring.sh (needs prometheus and mysqld_exporter)"]
async fn dashboards_and_alerts_name_only_metrics_the_live_stack_exports() {
    let started = Instant::now();
    let node = RabbitNode::start_with_prometheus().await;
    let exporter = MysqldExporter::start().await;
    let stack = ShopStack::start(&node.amqp_url(), Default::default()).await;
    // The drift watcher (job catalogue-drift), as compose and Kubernetes run it: the two
    // consumers' users, a check every second here.
    let drift_port = testkit::free_port();
    let drift_env = std::collections::HashMap::from([
        (
            "ADMIN_DATABASE_URL".to_owned(),
            stack.admin_users.consumer.url(&stack.admin_db.name),
        ),
        (
            "MAIN_DATABASE_URL".to_owned(),
            stack.main_users.consumer.url(&stack.main_db.name),
        ),
        ("DRIFT_LISTEN".to_owned(), format!("127.0.0.1:{drift_port}")),
        ("DRIFT_EVERY_SECS".to_owned(), "1".to_owned()),
    ]);
    let mut drift_watch =
        testkit::service::command(&testkit::workspace_binary("shop-repair"), &drift_env)
            .arg("watch")
            .spawn()
            .unwrap();

    // Each target of prometheus.yml, and where the same process listens here.
    let prom_port = testkit::free_port();
    let local = |p: Proc| host_port(&stack.svc(p).base_url);
    let targets = [
        ("admin-api:8000", local(Proc::AdminApi)),
        ("admin-consumer:8001", local(Proc::AdminConsumer)),
        ("main-api:5000", local(Proc::MainApi)),
        ("main-consumer:5001", local(Proc::MainConsumer)),
        ("catalogue-drift:9105", format!("127.0.0.1:{drift_port}")),
        (
            "rabbitmq:15692",
            format!("127.0.0.1:{}", node.prometheus_port.unwrap()),
        ),
        (
            "mysqld-exporter:9104",
            format!("127.0.0.1:{}", exporter.port),
        ),
        ("localhost:9090", format!("127.0.0.1:{prom_port}")),
    ];
    let prom = Prometheus::start(&local_config(&targets), prom_port).await;
    let mut problems = Vec::new();

    // Every target up, the jobs those of the committed config.
    let jobs = eventually(Duration::from_secs(60), "every target scraped", || async {
        let data = prom.api("targets", &[("state", "active")]).await.ok()?;
        let active = data["activeTargets"].as_array()?.clone();
        let all_scraped = active.iter().all(|t| t["health"] != "unknown");
        (all_scraped && active.len() == targets.len()).then_some(active)
    })
    .await;
    for t in &jobs {
        if t["health"] != "up" {
            problems.push(format!(
                "target {} ({}) is {}: {}",
                t["labels"]["job"], t["scrapeUrl"], t["health"], t["lastError"]
            ));
        }
    }

    // The traffic while Prometheus scrapes every second, so that rates see it; then a few
    // more scrapes of every target.
    traffic(&stack).await;
    let traffic_done = Instant::now();
    eventually(
        Duration::from_secs(30),
        "three scrapes after the traffic",
        || async {
            let since = traffic_done.elapsed().as_secs() + 1;
            let fewest = prom
                .value(&format!("min(count_over_time(up[{since}s]))"))
                .await?;
            (fewest >= 3.0).then_some(())
        },
    )
    .await;

    // mysqld_exporter's collectors all worked (its user has every right they need).
    if prom.value("max(mysql_exporter_last_scrape_error)").await != Some(0.0) {
        problems.push("mysqld_exporter reports a scrape error: see its log above".to_owned());
    }

    // The rules as Prometheus loaded them, each evaluated at least once.
    let rules = eventually(Duration::from_secs(30), "every rule evaluated", || async {
        let data = prom.api("rules", &[]).await.ok()?;
        let rules: Vec<Value> = data["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        let evaluated = rules.iter().all(|r| {
            r["lastEvaluation"]
                .as_str()
                .is_some_and(|t| !t.starts_with("0001"))
        });
        (evaluated && !rules.is_empty()).then_some(rules)
    })
    .await;
    let mut exprs = dashboard_queries();
    for r in &rules {
        if r["health"] != "ok" {
            problems.push(format!(
                "rule {} is {}: {}",
                r["name"], r["health"], r["lastError"]
            ));
        }
        exprs.push((
            format!("alert {}", r["name"].as_str().unwrap()),
            r["query"].as_str().unwrap().to_owned(),
        ));
    }

    let allowed: BTreeSet<&str> = ONLY_AFTER_A_FAULT.iter().map(|(n, _)| *n).collect();
    let mut wanted = BTreeSet::new();
    for (_, expr) in &exprs {
        wanted.extend(
            metric_names(expr)
                .into_iter()
                .filter(|n| !allowed.contains(n.as_str())),
        );
    }
    let names = stored_names(&prom, &wanted, Duration::from_secs(20)).await;
    let mut missing = BTreeSet::new();
    let mut empty = Vec::new();
    for (place, expr) in &exprs {
        match as_grafana_sends(expr) {
            Err(e) => problems.push(format!("{place}: {e}")),
            Ok(sent) => match prom.query(&sent).await {
                Err(e) => problems.push(format!("{place}: does not parse: {e}\n    {expr}")),
                Ok(result) if result.is_empty() => {
                    if may_be_empty(place, expr, &allowed) {
                        empty.push(place.as_str());
                    } else {
                        problems.push(format!("{place}: no data from the live stack\n    {expr}"));
                    }
                }
                Ok(_) => {}
            },
        }
        for name in metric_names(expr) {
            if !names.contains(&name) && !allowed.contains(name.as_str()) {
                problems.push(format!("{place}: {name} is not exported by the live stack"));
                missing.insert(name);
            }
        }
    }

    // A selector that names jobs must find its metric on each of them: the resource panels
    // need every process's process_* families, not some other exporter's.
    let mut checked = BTreeSet::new();
    for (place, expr) in &exprs {
        for (name, matchers) in selectors(expr) {
            let Some(jobs) = jobs_named(&matchers) else {
                continue;
            };
            for job in jobs {
                if allowed.contains(name.as_str()) || !checked.insert((name.clone(), job.clone())) {
                    continue;
                }
                let found = prom
                    .value(&format!(r#"count({name}{{job="{job}"}})"#))
                    .await;
                if found.is_none() {
                    problems.push(format!("{place}: job {job} does not export {name}"));
                }
            }
        }
    }

    // The dead letter above is visible through RabbitMQ's own metrics, and the alert on it
    // is active in the real Prometheus; no process is reported down.
    let dlq = shop_runtime::amqp::dead_letter_queue(&stack.main_queue);
    let alerts = eventually(
        Duration::from_secs(20),
        "the dead-letter alert active",
        || async {
            let data = prom.api("alerts", &[]).await.ok()?;
            let alerts = data["alerts"].as_array()?.clone();
            alerts
                .iter()
                .any(|a| {
                    a["labels"]["alertname"] == "DeadLettersPresent"
                        && a["labels"]["queue"] == dlq.as_str()
                })
                .then_some(alerts)
        },
    )
    .await;
    for a in alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == "ShopTargetDown")
    {
        problems.push(format!("alert ShopTargetDown active: {}", a["labels"]));
    }

    // After the traffic the stack is healthy: every pool connection back, the work queues
    // drained.
    let queues = format!("{}|{}", stack.main_queue, stack.admin_queue);
    eventually(
        WAIT,
        "pools idle and queues drained, as Prometheus sees them",
        || async {
            let in_use = prom
                .value(r#"sum(db_pool_connections{state="in_use"})"#)
                .await?;
            let queued = prom
                .value(&format!(
                    r#"sum(rabbitmq_queue_messages{{queue=~"{queues}"}})"#
                ))
                .await?;
            (in_use == 0.0 && queued == 0.0).then_some(())
        },
    )
    .await;

    // MONITORING_SCREENSHOTS=1: a few minutes of traffic, then a picture of each dashboard
    // drawn from this Prometheus (grafana-prometheus/src/screenshots.ts).
    if std::env::var("MONITORING_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let seconds = 180;
        load(&stack, seconds).await;
        let status = std::process::Command::new("node")
            .arg(monitoring_dir().join("build/screenshots.js"))
            .arg(&prom.url)
            .arg(seconds.to_string())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "screenshots failed (npm run build in grafana-prometheus first)"
        );
    }

    prom.stop().await;
    drop(exporter);
    drift_watch.kill().await.unwrap();
    stack.stop().await;
    drop(node);
    eprintln!(
        "monitoring: {} expressions without data, as expected: {}",
        empty.len(),
        empty.join("; ")
    );
    eprintln!(
        "monitoring: {} targets, {} expressions ({} rules) checked against {} exported names in {:.1} s",
        jobs.len(),
        exprs.len(),
        rules.len(),
        names.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}\nmissing metric families: {missing:?}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn metric_names_are_the_selectors_not_functions_labels_or_keywords() {
    let names = |e: &str| metric_names(e).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (job, route, le) (rate(http_request_duration_seconds_bucket{route="/api/products/{id}"}[5m])))"#
        ),
        ["http_request_duration_seconds_bucket"]
    );
    assert_eq!(
        names(
            r#"db_pool_connections{state="in_use"} / ignoring (state) db_pool_connections{state="max"} >= 0.9"#
        ),
        ["db_pool_connections"]
    );
    assert_eq!(
        names(
            "sum without (instance) (rate(a_total[1m] offset 5m)) / on (job) group_left (x) b and c or d unless e > bool 1e3"
        ),
        ["a_total", "b", "c", "d", "e"]
    );
    assert_eq!(
        names("time() - process_start_time_seconds{job=~\"a|b\"}"),
        ["process_start_time_seconds"]
    );
    assert_eq!(names("sum(x) by (le)"), ["x"]);
    assert_eq!(names(r#"up{job='x\'y'} == Inf"#), ["up"]);
    assert_eq!(names("topk(3, foo:bar:rate5m)"), ["foo:bar:rate5m"]);
    assert_eq!(
        selectors(r#"a{job=~"x|y", route="/p/{id}"} / b"#),
        [
            ("a".to_owned(), r#"job=~"x|y", route="/p/{id}""#.to_owned()),
            ("b".to_owned(), String::new())
        ]
    );
}

#[test]
fn jobs_named_reads_plain_job_matchers_only() {
    assert_eq!(jobs_named(r#"job="main-api""#).unwrap(), ["main-api"]);
    assert_eq!(
        jobs_named(r#"state="x", job =~ "a|b-c""#).unwrap(),
        ["a", "b-c"]
    );
    assert_eq!(jobs_named(r#"job=~".+api""#), None);
    assert_eq!(jobs_named(r#"state="x""#), None);
}

#[test]
fn grafana_variables_become_what_grafana_sends_and_unknown_ones_are_refused() {
    assert_eq!(
        as_grafana_sends("rate(x[$__rate_interval])").unwrap(),
        "rate(x[1m])"
    );
    assert!(as_grafana_sends(r#"up{job="$job"}"#).is_err());
}
