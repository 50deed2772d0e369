//! Credentials from AWS Secrets Manager, against a real Secrets Manager API: moto in server
//! mode on a loopback port (`testkit::Moto`), never an AWS account. The real admin-api
//! binary, its own database and a database user of its own whose password only the secret
//! holds.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Moto, Service, ServiceUsers, TestDatabase, workspace_binary};

const HEALTH: &str = "/api/health";

struct Setup {
    moto: Moto,
    db: TestDatabase,
    users: ServiceUsers,
    queue: String,
    dir: PathBuf,
}

impl Setup {
    async fn new() -> Self {
        let db = TestDatabase::named("secrets");
        let users = ServiceUsers::create(&db.name).await;
        let dir = std::env::temp_dir().join(testkit::unique("secrets-logs"));
        std::fs::create_dir_all(&dir).unwrap();
        Setup {
            moto: Moto::start().await,
            db,
            users,
            queue: testkit::unique("secrets-main"),
            dir,
        }
    }

    /// The original's keys for the API's user, and the broker's URL.
    fn secret(&self) -> Value {
        let server = testkit::mysql_addr();
        json!({
            "username": self.users.api.name,
            "password": self.users.api.password,
            "host": server.ip().to_string(),
            "port": server.port(),
            "dbname": self.db.name,
            "engine": "mariadb",
            "amqp_url": testkit::amqp_url(),
        })
    }

    /// moto's endpoint and credentials, JSON logs at info, this test's queue; `extra` last.
    fn env(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = self
            .moto
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        for (k, v) in [
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("MAIN_QUEUE", self.queue.as_str()),
            ("ADMIN_QUEUE", self.queue.as_str()),
            ("AMQP_URL", testkit::amqp_url().as_str()),
            ("SECRETS_TIMEOUT_MS", "1500"),
        ] {
            env.insert(k.to_owned(), v.to_owned());
        }
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        env
    }

    async fn spawn(&self, name: &str, env: &HashMap<String, String>) -> (Service, PathBuf) {
        let log = self.dir.join(format!("{name}.log"));
        let svc =
            Service::spawn_with(&workspace_binary("admin-api"), env, HEALTH, Some(&log)).await;
        (svc, log)
    }

    async fn clean_up(self) {
        let reader = testkit::QueueReader::connect().await;
        reader.delete_queues(&self.queue).await;
        self.db.drop_database().await;
        self.users.drop_users().await;
        self.moto.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The process's JSON log lines.
fn log_lines(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The first line at `level` whose message contains `text`.
fn find_line(path: &PathBuf, level: &str, text: &str) -> Option<Value> {
    log_lines(path)
        .into_iter()
        .find(|l| l["level"] == level && l["message"].as_str().is_some_and(|m| m.contains(text)))
}

async fn healthy(svc: &Service) {
    svc.wait_healthy(HEALTH, Duration::from_secs(30)).await;
}

async fn create_product(svc: &Service) {
    let res = svc
        .http
        .post(svc.url("/api/products"))
        .json(&json!({"title": "Mug", "image": "/mug.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Connections the server has open for `user`.
async fn connections_of(user: &str) -> i64 {
    let mut conn = TestDatabase {
        name: "mysql".into(),
    }
    .connect()
    .await;
    sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.processlist WHERE user = ?")
        .bind(user)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Runs admin-api until it exits (at most 30 s): its exit code and everything it printed.
async fn run_to_exit(env: &HashMap<String, String>) -> (Option<i32>, String) {
    let bin = workspace_binary("admin-api");
    testkit::service::run_to_exit(&bin, env, Duration::from_secs(30)).await
}

#[tokio::test]
async fn the_secret_wins_over_the_environment_except_where_the_operator_says_so() {
    let s = Setup::new().await;
    s.moto.put("shop/admin", &s.secret().to_string()).await;
    // The environment alone would fail on every count: user, password, port, broker.
    let env = s.env(&[
        ("DATABASE_URL", "mysql://nobody:wrong@127.0.0.1:1/unused"),
        ("AMQP_URL", "amqp://nobody:wrong@127.0.0.1:1/%2f"),
        ("DB_SECRET_ID", "shop/admin"),
        ("AMQP_SECRET_ID", "shop/admin"),
    ]);
    let (svc, log) = s.spawn("secret", &env).await;
    healthy(&svc).await;
    create_product(&svc).await;
    assert!(connections_of(&s.users.api.name).await > 0);
    let line = find_line(
        &log,
        "INFO",
        "database credentials read from Secrets Manager",
    )
    .expect("an INFO line says where the credentials came from");
    assert_eq!(line["secret"], "shop/admin");
    assert!(find_line(&log, "INFO", "broker URL read from Secrets Manager").is_some());
    assert_eq!(svc.terminate().await, Some(0));

    // SECRET_OVERRIDES: the environment's host and port win over a secret that names a host
    // that does not exist; the user and password still come from the secret.
    let mut elsewhere = s.secret();
    elsewhere["host"] = json!("db.invalid");
    elsewhere["port"] = json!(1);
    s.moto
        .put("shop/admin-elsewhere", &elsewhere.to_string())
        .await;
    let server = testkit::mysql_addr();
    let url = format!("mysql://nobody:wrong@{server}/{}", s.db.name);
    let env = s.env(&[
        ("DATABASE_URL", url.as_str()),
        ("DB_SECRET_ID", "shop/admin-elsewhere"),
        ("SECRET_OVERRIDES", "host,port"),
    ]);
    let (svc, _) = s.spawn("overrides", &env).await;
    healthy(&svc).await;
    create_product(&svc).await;
    assert_eq!(svc.terminate().await, Some(0));
    s.clean_up().await;
}

#[tokio::test]
async fn a_missing_secret_falls_back_to_the_environment_with_a_warning() {
    let s = Setup::new().await;
    let url = s.db.url();
    let env = s.env(&[
        ("DATABASE_URL", url.as_str()),
        ("DB_SECRET_ID", "shop/no-such-secret"),
    ]);
    let (svc, log) = s.spawn("missing", &env).await;
    healthy(&svc).await;
    create_product(&svc).await;
    let warn = find_line(&log, "WARN", "cannot read the secret")
        .expect("a WARN line names the secret that could not be read");
    assert_eq!(warn["secret"], "shop/no-such-secret");
    assert_eq!(warn["reason"], "secret not found");
    assert_eq!(svc.terminate().await, Some(0));
    s.clean_up().await;
}

#[tokio::test]
async fn an_unreachable_endpoint_falls_back_within_the_timeout() {
    let s = Setup::new().await;
    let url = s.db.url();
    // One endpoint refuses connections; the other accepts them and never answers.
    let refused = format!("http://127.0.0.1:{}", testkit::free_port());
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    for (name, endpoint) in [("refused", &refused), ("silent", &silent_url)] {
        let env = s.env(&[
            ("DATABASE_URL", url.as_str()),
            ("DB_SECRET_ID", "shop/admin"),
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ]);
        let started = Instant::now();
        let (svc, log) = s.spawn(name, &env).await;
        let took = started.elapsed();
        healthy(&svc).await;
        let warn = find_line(&log, "WARN", "cannot read the secret")
            .unwrap_or_else(|| panic!("{name}: a WARN line says the secret could not be read"));
        assert_eq!(warn["secret"], "shop/admin");
        eprintln!("{name}: {warn}; listening after {took:?}");
        // SECRETS_TIMEOUT_MS is 1.5 s; the rest is the start itself.
        assert!(
            took < Duration::from_secs(12),
            "{name}: start took {took:?}"
        );
        if name == "silent" {
            assert!(took >= Duration::from_millis(1500), "{name}: {took:?}");
            assert!(
                warn["reason"]
                    .as_str()
                    .unwrap()
                    .contains("no answer within 1500 ms")
            );
        }
        assert_eq!(svc.terminate().await, Some(0));
    }
    drop(silent);
    s.clean_up().await;
}

#[tokio::test]
async fn a_malformed_secret_stops_the_process_naming_the_secret_and_the_key() {
    let s = Setup::new().await;
    let password = s.users.api.password.clone();
    let mut bad_port = s.secret();
    bad_port["port"] = json!("three-three-oh-six");
    let mut no_password = s.secret();
    no_password.as_object_mut().unwrap().remove("password");
    let mut no_amqp = s.secret();
    no_amqp.as_object_mut().unwrap().remove("amqp_url");
    let url = s.db.url();
    for (id, text, var, key) in [
        (
            "bad/not-json",
            format!("username={} password={password}", s.users.api.name),
            "DB_SECRET_ID",
            "not a JSON object",
        ),
        (
            "bad/port",
            bad_port.to_string(),
            "DB_SECRET_ID",
            "key \"port\"",
        ),
        (
            "bad/no-password",
            no_password.to_string(),
            "DB_SECRET_ID",
            "key \"password\" is missing",
        ),
        (
            "bad/no-amqp-url",
            no_amqp.to_string(),
            "AMQP_SECRET_ID",
            "key \"amqp_url\" is missing",
        ),
    ] {
        s.moto.put(id, &text).await;
        let env = s.env(&[("DATABASE_URL", url.as_str()), (var, id)]);
        let started = Instant::now();
        let (code, printed) = run_to_exit(&env).await;
        assert_ne!(code, Some(0), "{id}: {printed}");
        let error = printed
            .lines()
            .find(|l| l.starts_with("Error:"))
            .unwrap_or_else(|| panic!("{id}: no error line in {printed}"));
        assert!(
            error.contains(var) && error.contains(&format!("{id:?}")),
            "{error}"
        );
        assert!(error.contains(key), "{id}: {error}");
        assert!(
            !printed.contains(&password),
            "{id}: the password was printed"
        );
        assert!(started.elapsed() < Duration::from_secs(10), "{id}");
    }
    s.clean_up().await;
}
