//! End-to-end: the real `admin-api` binary on a free port, its own database and queue, the
//! machine's MariaDB and RabbitMQ. The outage test puts a TCP proxy between the service and
//! the broker and cuts it, so the machine's broker is never disturbed.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use events::{Envelope, Event, PERSISTENT};
use lapin::message::BasicGetMessage;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{QueueReader, Service, TcpProxy, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_admin-api");

struct Setup {
    db: TestDatabase,
    queue: String,
    reader: QueueReader,
}

impl Setup {
    async fn new() -> Self {
        let db = TestDatabase::named("admin_e2e");
        let queue = testkit::unique("e2e-main");
        let reader = QueueReader::connect().await;
        reader.declare(&queue).await;
        Setup { db, queue, reader }
    }

    fn env(&self, amqp_url: &str) -> HashMap<String, String> {
        HashMap::from([
            ("DATABASE_URL".to_owned(), self.db.url()),
            ("AMQP_URL".to_owned(), amqp_url.to_owned()),
            ("MAIN_QUEUE".to_owned(), self.queue.clone()),
            ("AMQP_RECONNECT_MAX_MS".to_owned(), "300".to_owned()),
            ("AMQP_CONNECT_TIMEOUT_MS".to_owned(), "2000".to_owned()),
        ])
    }

    async fn cleanup(self) {
        self.reader.delete_queues(&self.queue).await;
        self.db.drop_database().await;
    }
}

async fn post(svc: &Service, body: Value) -> Value {
    let res = svc
        .http
        .post(svc.url("/api/products"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn put(svc: &Service, id: u64, body: Value) -> Value {
    let res = svc
        .http
        .put(svc.url(&format!("/api/products/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json().await.unwrap()
}

async fn delete(svc: &Service, id: u64) {
    let res = svc
        .http
        .delete(svc.url(&format!("/api/products/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

fn decode(msg: &BasicGetMessage) -> Envelope {
    Envelope::from_amqp(&msg.delivery.properties, &msg.delivery.data).unwrap()
}

fn body(msg: &BasicGetMessage) -> Value {
    serde_json::from_slice(&msg.delivery.data).unwrap()
}

#[tokio::test]
async fn create_update_delete_reach_the_broker_with_full_properties() {
    let setup = Setup::new().await;
    let svc = Service::spawn(BIN, &setup.env(&testkit::amqp_url()), "/api/health")
        .await
        .with_token(&testkit::service::admin_token(&setup.env(&testkit::amqp_url())).await);

    let created = post(
        &svc,
        json!({"title": "Mug", "image": "https://example.com/mug.png"}),
    )
    .await;
    let id = created["id"].as_u64().unwrap();
    put(&svc, id, json!({"title": "Big mug", "image": "/big.png"})).await;
    delete(&svc, id).await;

    let msgs = setup
        .reader
        .take(&setup.queue, 3, Duration::from_secs(10))
        .await;
    assert_eq!(msgs.len(), 3, "three events on the queue");
    let kinds: Vec<String> = msgs
        .iter()
        .map(|m| {
            m.delivery
                .properties
                .content_type()
                .as_ref()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["product_created", "product_updated", "product_deleted"]
    );
    assert_eq!(
        body(&msgs[0]),
        json!({"id": id, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0, "version": 1})
    );
    assert_eq!(
        body(&msgs[1]),
        json!({"id": id, "title": "Big mug", "image": "/big.png", "likes": 0, "version": 2})
    );
    assert_eq!(body(&msgs[2]), json!(id));

    let mut ids = HashSet::new();
    for m in &msgs {
        let p = &m.delivery.properties;
        assert_eq!(*p.delivery_mode(), Some(PERSISTENT), "persistent");
        assert_eq!(p.app_id().as_ref().unwrap().as_str(), "admin-svc");
        assert!(p.timestamp().is_some());
        let env = decode(m);
        let mid = env.message_id.clone().unwrap();
        assert!(uuid::Uuid::parse_str(&mid).is_ok(), "message_id is a UUID");
        assert!(ids.insert(mid), "message ids are unique");
        assert!(env.trace.is_some(), "traceparent header");
        assert_eq!(m.delivery.exchange.as_str(), "", "default exchange");
        assert_eq!(
            m.delivery.routing_key.as_str(),
            setup.queue,
            "routed by queue name"
        );
    }
    assert_eq!(decode(&msgs[2]).event, Event::ProductDeleted(id));

    let health = svc.get_json("/api/health").await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(svc.terminate().await, Some(0), "SIGTERM stops it cleanly");
    setup.cleanup().await;
}

/// Pending outbox rows, oldest first, as message ids.
async fn pending(db: &TestDatabase) -> Vec<String> {
    let mut conn = db.connect().await;
    sqlx::query_scalar("SELECT message_id FROM outbox WHERE published_at IS NULL ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

async fn all_message_ids(db: &TestDatabase) -> Vec<String> {
    let mut conn = db.connect().await;
    sqlx::query_scalar("SELECT message_id FROM outbox ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

/// Writes a mixed stream: creates, updates and deletes. Returns how many events it caused.
async fn write_stream(svc: &Service, n: usize) -> usize {
    let mut events = 0;
    for i in 0..n {
        let p = post(svc, json!({"title": format!("P{i}"), "image": "/p.png"})).await;
        let id = p["id"].as_u64().unwrap();
        put(
            svc,
            id,
            json!({"title": format!("P{i}b"), "image": "/p.png"}),
        )
        .await;
        events += 2;
        if i % 3 == 0 {
            delete(svc, id).await;
            events += 1;
        }
    }
    events
}

#[tokio::test]
async fn writes_succeed_while_the_broker_is_away_and_drain_in_order_exactly_once() {
    let setup = Setup::new().await;
    let proxy = TcpProxy::start(testkit::amqp_addr(), false).await;
    let svc = Service::spawn(BIN, &setup.env(&proxy.amqp_url()), "/api/health")
        .await
        .with_token(&testkit::service::admin_token(&setup.env(&proxy.amqp_url())).await);

    // The broker is unreachable: health says so, writes still succeed.
    let res = svc.http.get(svc.url("/api/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: Value = res.json().await.unwrap();
    assert_eq!(health["broker"], "down");
    assert_eq!(health["database"], "up");

    let first = write_stream(&svc, 10).await;
    assert_eq!(
        pending(&setup.db).await.len(),
        first,
        "every write waits in the outbox"
    );

    // The broker comes back: everything arrives, in commit order, once.
    proxy.restore();
    let msgs = setup
        .reader
        .take(&setup.queue, first, Duration::from_secs(20))
        .await;
    let got: Vec<String> = msgs.iter().map(|m| decode(m).message_id.unwrap()).collect();
    assert_eq!(
        got,
        all_message_ids(&setup.db).await,
        "all events, in outbox order"
    );
    testkit::eventually(Duration::from_secs(5), "outbox drained", || async {
        testkit::seen(pending(&setup.db).await, Vec::is_empty)
    })
    .await;
    testkit::eventually(Duration::from_secs(5), "health recovers", || {
        testkit::service::answers_ok(&svc.http, svc.url("/api/health"))
    })
    .await;

    // The connection is cut under a live relay: it notices, reconnects and drains again.
    proxy.cut();
    let second = write_stream(&svc, 5).await;
    proxy.restore();
    let more = setup
        .reader
        .take(&setup.queue, second, Duration::from_secs(20))
        .await;
    let mut all = got.clone();
    all.extend(more.iter().map(|m| decode(m).message_id.unwrap()));
    assert_eq!(
        all,
        all_message_ids(&setup.db).await,
        "second burst, in order"
    );

    // Nothing more: no event was published twice. A marker written now comes next (the
    // relay publishes in outbox order on one channel, so an event sent again would have
    // come before it), with no wait for something that might still come.
    let marker = post(&svc, json!({"title": "Marker", "image": "/m.png"})).await;
    let next = setup
        .reader
        .take(&setup.queue, 1, Duration::from_secs(20))
        .await;
    let next: Vec<(String, Value)> = next
        .iter()
        .map(|m| (decode(m).message_id.unwrap(), body(m)["id"].clone()))
        .collect();
    let marker_message = all_message_ids(&setup.db).await.pop().unwrap();
    assert_eq!(
        next,
        [(marker_message, marker["id"].clone())],
        "the marker's event next: no event twice"
    );
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), first + second);

    assert_eq!(svc.terminate().await, Some(0));
    setup.cleanup().await;
}

#[tokio::test]
async fn an_unroutable_publish_is_detected_and_the_event_still_arrives() {
    let setup = Setup::new().await;
    let svc = Service::spawn(BIN, &setup.env(&testkit::amqp_url()), "/api/health")
        .await
        .with_token(&testkit::service::admin_token(&setup.env(&testkit::amqp_url())).await);
    post(&svc, json!({"title": "First", "image": "/a.png"})).await;
    assert_eq!(
        setup
            .reader
            .take(&setup.queue, 1, Duration::from_secs(10))
            .await
            .len(),
        1
    );

    // Someone deletes the queue under the running relay: the next publish has no route.
    setup.reader.delete_queues(&setup.queue).await;
    let second = post(&svc, json!({"title": "Second", "image": "/b.png"})).await;

    // The broker returned it; the relay counted that, kept the row pending, reconnected,
    // declared the queue again and delivered the event.
    testkit::eventually(
        Duration::from_secs(10),
        "the unroutable publish counted",
        || async {
            let text = svc
                .http
                .get(svc.url("/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            // The series starts at 0: its value must have grown.
            text.lines()
                .filter_map(|l| {
                    l.strip_prefix(r#"events_publish_failures_total{reason="unroutable"} "#)
                })
                .any(|v| v.parse::<f64>().is_ok_and(|n| n > 0.0))
                .then_some(())
        },
    )
    .await;
    // A quorum queue declared again right after its deletion can answer `noproc` for a
    // moment (a hard error that closes the reader's connection): read on fresh connections.
    let msgs = testkit::eventually(
        Duration::from_secs(20),
        "the event on the queue again",
        || async {
            let reader = QueueReader::connect().await;
            match reader
                .try_take(&setup.queue, 1, Duration::from_millis(500))
                .await
            {
                Ok(msgs) if !msgs.is_empty() => Some(msgs),
                _ => None,
            }
        },
    )
    .await;
    assert_eq!(msgs.len(), 1, "the event was not lost");
    assert_eq!(body(&msgs[0])["id"], second["id"]);
    assert!(pending(&setup.db).await.is_empty());

    assert_eq!(svc.terminate().await, Some(0));
    setup.cleanup().await;
}

#[tokio::test]
async fn create_user_command_creates_once_and_feeds_api_user() {
    let setup = Setup::new().await;
    let env = setup.env(&testkit::amqp_url());
    let run = |args: &'static [&'static str]| {
        let env = env.clone();
        async move {
            tokio::process::Command::new(BIN)
                .args(args)
                .envs(&env)
                .env("RUST_LOG", "warn")
                .env("ADMIN_PASSWORD", "a long enough password")
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(&[
        "create-user",
        "--name",
        "Ada Lovelace",
        "--email",
        "ada@example.com",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let again = run(&["create-user", "--name", "Ada", "--email", "ada@example.com"]).await;
    assert_eq!(
        String::from_utf8(again.stdout).unwrap().trim(),
        id.to_string(),
        "same email, same user"
    );

    // Standard output is the answer alone, whatever the log level (TOKEN=$(…) in
    // docs/contract.md): log lines go to standard error.
    let token = tokio::process::Command::new(BIN)
        .args(["create-token", "--name", "readme"])
        .envs(&env)
        .env("RUST_LOG", "debug")
        .output()
        .await
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let printed = String::from_utf8(token.stdout).unwrap();
    assert!(
        admin_svc::auth::token::well_formed(printed.trim_end_matches('\n')),
        "stdout is the token and nothing else: {printed:?}"
    );
    assert!(!token.stderr.is_empty(), "the logs went to standard error");

    let bad = run(&["create-user", "--name", "X", "--email", "not-an-email"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--email"));

    let svc = Service::spawn(BIN, &env, "/api/health").await;
    let user = svc.get_json("/api/user").await.unwrap();
    assert_eq!(user, json!({"id": id}));
    assert_eq!(svc.terminate().await, Some(0));
    setup.cleanup().await;
}

/// A bad setting stops the process at start with a message that names the variable (and
/// never echoes a password); the API's and the consumer's own settings alike.
#[tokio::test]
async fn a_bad_setting_stops_the_binary_naming_the_variable() {
    let not_a_ca = std::env::temp_dir().join(testkit::unique("not-a-ca"));
    std::fs::write(&not_a_ca, "not a certificate").unwrap();
    let not_a_ca = not_a_ca.to_string_lossy().into_owned();
    let api: &[(&str, &str)] = &[
        ("PORT", "eighty"),
        ("SQL_PORT", "-1"),
        ("SQL_PORT", "0"),
        ("AMQP_URL", "localhost"),
        ("DATABASE_URL", "postgres://shop:hunter2@db/admin"),
        ("DATABASE_URL", "mysql://shop:hunter2@db:port/admin"),
        ("SQL_SSL_MODE", "sometimes"),
        ("SQL_SSL_CA", "/nonexistent/ca.pem"),
        ("AMQP_CA_FILE", "/nonexistent/ca.pem"),
        ("AMQP_CA_FILE", &not_a_ca),
        ("DB_MAX_CONNECTIONS", "0"),
        ("HTTP_MAX_CONNECTIONS", "0"),
        ("COOKIE_SECURE", "maybe"),
        ("SESSION_IDLE_MINUTES", "0"),
        ("SESSION_MAX_HOURS", "0"),
    ];
    let consumer: &[(&str, &str)] = &[
        ("CONSUMER_PREFETCH", "0"),
        ("CONSUMER_BATCH_SIZE", "0"),
        ("CONSUMER_BATCH_SIZE", "1001"),
        ("PROCESSED_RETENTION_DAYS", "0"),
    ];
    for (bin, cases) in [(BIN, api), (env!("CARGO_BIN_EXE_admin-consumer"), consumer)] {
        for (name, value) in cases {
            let mut cmd = tokio::process::Command::new(bin);
            if *name != "DATABASE_URL" {
                cmd.env_remove("DATABASE_URL");
            }
            let out = cmd.env(name, value).output().await.unwrap();
            assert!(!out.status.success(), "{bin} {name}={value} started");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(name), "{name}={value}: {stderr}");
            assert!(!stderr.contains("hunter2"), "{name}: {stderr}");
        }
    }
    let _ = std::fs::remove_file(&not_a_ca);
}

/// What an operator does when an admin forgets a password or a token leaks: `set-password`
/// and `revoke-token`, against the running API. A mistake is refused, naming what is wrong.
#[tokio::test]
async fn operator_commands_set_a_password_and_revoke_a_token() {
    let setup = Setup::new().await;
    let env = setup.env(&testkit::amqp_url());
    let run = |args: &[&str], password: Option<&str>| {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(args)
            .envs(&env)
            .env("RUST_LOG", "warn")
            .env_remove("ADMIN_PASSWORD")
            .stdin(std::process::Stdio::null());
        if let Some(p) = password {
            cmd.env("ADMIN_PASSWORD", p);
        }
        async move {
            let out = cmd.output().await.unwrap();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), printed)
        }
    };
    let ada = ["--email", "ada@example.com"];
    let create = |password| run(&["create-user", "--name", "Ada", ada[0], ada[1]], password);

    // A new user needs a password, and there is no terminal to ask for one.
    let (ok, printed) = create(None).await;
    assert!(!ok && printed.contains("set ADMIN_PASSWORD"), "{printed}");
    let (ok, printed) = create(Some("the first password")).await;
    assert!(ok, "{printed}");

    let svc = Service::spawn(BIN, &env, "/api/health").await;
    let login = async |password: &str| {
        svc.http
            .post(svc.url("/api/auth/login"))
            .json(&json!({"email": "ada@example.com", "password": password}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(login("the first password").await, StatusCode::OK);

    let (ok, printed) = run(&["set-password", ada[0], ada[1]], Some("short")).await;
    assert!(
        !ok && printed.contains("characters long"),
        "a too short password: {printed}"
    );
    let (ok, printed) = run(
        &["set-password", "--email", "nobody@example.com"],
        Some("the second password"),
    )
    .await;
    assert!(
        !ok && printed.contains("no user with email"),
        "an unknown email: {printed}"
    );
    let (ok, printed) = run(
        &["set-password", "--email", " ADA@example.com "],
        Some("the second password"),
    )
    .await;
    assert!(ok, "{printed}");
    assert_eq!(login("the second password").await, StatusCode::OK);
    assert_eq!(login("the first password").await, StatusCode::UNAUTHORIZED);

    let (ok, token) = run(&["create-token", "--name", "ci"], None).await;
    assert!(ok, "{token}");
    let token = token.trim().to_owned();
    let (ok, printed) = run(&["create-token", "--name", "ci"], None).await;
    assert!(
        !ok && printed.contains("exists already"),
        "a second token of the same name: {printed}"
    );
    let svc = svc.with_token(&token);
    let write = async || {
        svc.http
            .post(svc.url("/api/products"))
            .json(&json!({"title": "Mug", "image": "/m.png"}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(write().await, StatusCode::CREATED);
    let (ok, printed) = run(&["revoke-token", "--name", "ci"], None).await;
    assert!(ok, "{printed}");
    assert_eq!(write().await, StatusCode::UNAUTHORIZED, "a revoked token");
    let (ok, printed) = run(&["revoke-token", "--name", "ci"], None).await;
    assert!(
        !ok && printed.contains("no live token"),
        "revoked twice: {printed}"
    );

    // Products loaded behind the service's back (a restore, a bulk load) are found by a
    // search once `reindex-search` ran, while the API serves.
    let pool = sqlx::MySqlPool::connect(&setup.db.url()).await.unwrap();
    sqlx::query("INSERT INTO products (title, image) VALUES ('Loaded Lantern', '/l.png')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let found = async || {
        let res = svc
            .http
            .get(svc.url("/api/products?q=lantern"))
            .send()
            .await
            .unwrap();
        res.headers()["x-total-count"].to_str().unwrap().to_owned()
    };
    assert_eq!(found().await, "0");
    let (ok, printed) = run(&["reindex-search"], None).await;
    assert!(
        ok && printed.contains("2 products indexed for search"),
        "{printed}"
    );
    // The running API learns of it by its version check (LIST_VERSION_CHECK_MS).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while found().await != "1" {
        assert!(
            std::time::Instant::now() < deadline,
            "the new index is not searched"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert_eq!(svc.terminate().await, Some(0));
    setup.cleanup().await;
}

/// `CORS_ALLOWED_ORIGINS`: a listed site's pages may call the API from a browser, with the
/// user's credentials (its preflight is answered, its writes accepted); any other site gets
/// no CORS answer and its writes are refused.
#[tokio::test]
async fn a_listed_origin_gets_cors_with_credentials_and_others_do_not() {
    let setup = Setup::new().await;
    let mut env = setup.env(&testkit::amqp_url());
    let token = testkit::service::admin_token(&env).await;
    env.insert(
        "CORS_ALLOWED_ORIGINS".to_owned(),
        "https://admin.example.com, http://localhost:5173".to_owned(),
    );
    let svc = Service::spawn(BIN, &env, "/api/health")
        .await
        .with_token(&token);
    let listed = "https://admin.example.com";
    let other = "https://elsewhere.example.com";

    let preflight = async |origin: &str| {
        svc.http
            .request(reqwest::Method::OPTIONS, svc.url("/api/products"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization,traceparent,if-match",
            )
            .send()
            .await
            .unwrap()
    };
    let res = preflight(listed).await;
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], listed);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in ["content-type", "authorization", "traceparent", "if-match"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    let res = preflight(other).await;
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "{:?}",
        res.headers()
    );

    let write = async |origin: &str| {
        svc.http
            .post(svc.url("/api/products"))
            .header("origin", origin)
            .header("sec-fetch-site", "cross-site")
            .json(&json!({"title": "Mug", "image": "/m.png"}))
            .send()
            .await
            .unwrap()
    };
    let res = write(listed).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["access-control-allow-origin"], listed);
    // The admin table's total and page links are readable from the listed origin.
    let res = svc
        .http
        .get(svc.url("/api/products?page=1"))
        .header("origin", listed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("link") && exposed.contains("x-total-count") && exposed.contains("etag"),
        "{exposed}"
    );
    let res = write(other).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Cross-site request refused"),
        "{body}"
    );

    assert_eq!(svc.terminate().await, Some(0));
    setup.cleanup().await;
}
