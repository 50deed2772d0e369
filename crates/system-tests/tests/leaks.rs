//! No secret anywhere it should not be: the four real processes started with known secret
//! values (each database user's password, the broker user's password, a session key, a
//! token, an AWS secret key; admin-svc's processes read theirs from Secrets Manager, on
//! moto, main-svc's from the environment), logging at debug level (admin-svc's as JSON,
//! main-svc's as text), taken through normal traffic, client errors, a database outage and
//! failed starts. None of the values may appear in any log line, `/metrics`, `/health`, an
//! error body, the OpenAPI documents or the settings' `Debug` output.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use shop_runtime::Env;
use shop_runtime::secrets::DbSecret;
use shop_runtime::settings::{ADMIN_API, Settings};
use testkit::{Moto, Overrides, Proc, RabbitNode, ShopStack, unique, workspace_binary};

/// Where a value was found that should not be there.
fn leaks(place: &str, text: &str, secrets: &[String], found: &mut Vec<String>) {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            found.push(format!("{place} holds {secret:?}"));
        }
    }
}

/// Runs `binary` until it exits (at most 30 s), which it must do with an error; everything
/// it printed.
async fn run_to_exit(binary: &str, env: &HashMap<String, String>) -> String {
    let bin = workspace_binary(binary);
    let (code, printed) = testkit::service::run_to_exit(&bin, env, Duration::from_secs(30)).await;
    assert_ne!(code, Some(0), "{binary} was meant to fail: {printed}");
    printed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_logs_metrics_health_errors_documents_or_debug_output() {
    let amqp_password = unique("amqp-password");
    let session_key = unique("session-key");
    let token = unique("token");
    let aws_secret = unique("aws-secret");
    let (node, moto) = tokio::join!(RabbitNode::start(), Moto::start());
    node.add_user("shop", &amqp_password);
    let amqp_url = node.amqp_url_as("shop", &amqp_password);
    let server = testkit::mysql_addr();

    let mut overrides = Overrides::new();
    for p in Proc::ALL {
        let mut env: Vec<(&'static str, String)> = vec![
            ("RUST_LOG", "debug".into()),
            ("SESSION_KEY", session_key.clone()),
            ("ADMIN_TOKEN", token.clone()),
        ];
        match p {
            Proc::AdminApi | Proc::AdminConsumer => {
                env.extend(moto.env());
                env.extend([
                    ("AWS_SECRET_ACCESS_KEY", aws_secret.clone()),
                    ("LOG_FORMAT", "json".into()),
                    ("DB_SECRET_ID", format!("leaks/{}", p.binary())),
                    ("AMQP_SECRET_ID", format!("leaks/{}", p.binary())),
                    // The password and the broker URL are in the secret only.
                    (
                        "DATABASE_URL",
                        format!("mysql://{{user}}@{server}/{{database}}"),
                    ),
                    ("AMQP_URL", "amqp://nobody@127.0.0.1:1/%2f".into()),
                ]);
            }
            Proc::MainApi | Proc::MainConsumer => env.push(("LOG_FORMAT", "text".into())),
        }
        overrides.insert(p, env);
    }
    let logs = std::env::temp_dir().join(unique("leak-logs"));
    let stack = ShopStack::prepare(&amqp_url, overrides).await.log_to(&logs);
    for (p, user) in [
        (Proc::AdminApi, &stack.admin_users.api),
        (Proc::AdminConsumer, &stack.admin_users.consumer),
    ] {
        let secret =
            json!({"username": user.name, "password": user.password, "amqp_url": amqp_url});
        moto.put(&format!("leaks/{}", p.binary()), &secret.to_string())
            .await;
    }
    let mut secrets = vec![
        amqp_password.clone(),
        session_key.clone(),
        token.clone(),
        aws_secret.clone(),
    ];
    for users in [&stack.admin_users, &stack.main_users] {
        secrets.push(users.api.password.clone());
        secrets.push(users.consumer.password.clone());
    }
    let stack = stack.launch().await;
    let client = stack.client.clone();
    let mut found = Vec::new();

    // Traffic, and every kind of client error, keeping each answer's body.
    let id = client.create("Mug", "/mug.png").await;
    testkit::eventually(testkit::WAIT, "mirrored", || client.shop_product(id)).await;
    assert_eq!(client.like(id, &mut None).await, StatusCode::OK);
    let (admin, main) = (client.admin.clone(), client.main.clone());
    let http = &client.http;
    let requests = [
        http.get(format!("{admin}/api/products")),
        http.get(format!("{admin}/api/products/999999")),
        http.post(format!("{admin}/api/products"))
            .json(&json!({"title": ""})),
        http.post(format!("{admin}/api/products"))
            .body("{not json")
            .header("content-type", "application/json"),
        http.post(format!("{admin}/api/products"))
            .body("x")
            .header("content-type", "text/plain"),
        // The server closes the connection after a 413: a client of its own.
        reqwest::Client::new()
            .post(format!("{admin}/api/products"))
            .body(vec![b'a'; 70_000])
            .header("content-type", "application/json"),
        http.get(format!("{admin}/nowhere")),
        http.get(format!("{admin}/api/openapi.json")),
        http.get(format!("{admin}/api/docs/")),
        http.get(format!("{main}/flask/api/products")),
        http.post(format!("{main}/flask/api/products/abc/like")),
        http.post(format!("{main}/flask/api/products/{id}/like"))
            .header("cookie", "shopper_id=forged"),
        http.get(format!("{main}/flask/api/openapi.json")),
        http.get(format!("{main}/flask/api/docs/")),
    ];
    for request in requests {
        let res = request.send().await.unwrap();
        let place = format!("{} {}", res.status(), res.url());
        let body = res.text().await.unwrap();
        leaks(&place, &body, &secrets, &mut found);
    }

    // A database outage: every connection of admin-api's user is killed, so its next
    // queries fail and are logged.
    let mut root = stack.admin_db.connect().await;
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM information_schema.processlist WHERE user = ?")
            .bind(&stack.admin_users.api.name)
            .fetch_all(&mut root)
            .await
            .unwrap();
    for thread in ids {
        let _ = sqlx::raw_sql(&format!("KILL {thread}"))
            .execute(&mut root)
            .await;
    }
    for _ in 0..5 {
        let res = http
            .get(format!("{admin}/api/products"))
            .send()
            .await
            .unwrap();
        let place = format!("{} after the outage", res.status());
        leaks(&place, &res.text().await.unwrap(), &secrets, &mut found);
    }

    for p in Proc::ALL {
        let svc = stack.svc(p);
        for path in [p.health_path(), "/metrics"] {
            let body = svc
                .http
                .get(svc.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            leaks(
                &format!("{} {path}", p.binary()),
                &body,
                &secrets,
                &mut found,
            );
        }
    }

    // Starts that fail: a login refused (the consumer's user has no right on the other
    // database), and an AMQP_URL that is not one.
    let refused = HashMap::from([(
        "DATABASE_URL".to_owned(),
        stack.admin_users.consumer.url(&stack.main_db.name),
    )]);
    let printed = run_to_exit("admin-api", &refused).await;
    assert!(printed.contains("Access denied"), "{printed}");
    leaks("a refused start", &printed, &secrets, &mut found);
    let bad_url = HashMap::from([(
        "AMQP_URL".to_owned(),
        format!("http://shop:{amqp_password}@127.0.0.1:1/"),
    )]);
    let printed = run_to_exit("main-api", &bad_url).await;
    assert!(printed.contains("AMQP_URL"), "{printed}");
    leaks("a bad AMQP_URL", &printed, &secrets, &mut found);

    stack.stop().await;
    for p in Proc::ALL {
        let log = std::fs::read_to_string(logs.join(format!("{}.log", p.binary()))).unwrap();
        assert!(log.lines().count() > 20, "{} logged at debug", p.binary());
        leaks(&format!("{}'s log", p.binary()), &log, &secrets, &mut found);
    }

    // Debug output of the settings, as the processes type them.
    let db_password = &secrets[4];
    let amqp = amqp_url.clone();
    let env = Env::from_pairs([
        ("SQL_PASSWORD", db_password.as_str()),
        ("AMQP_URL", amqp.as_str()),
        ("SESSION_KEY", session_key.as_str()),
    ]);
    let mut settings = Settings::from_env(&env, ADMIN_API).unwrap();
    settings.amqp.set_url(&amqp_url, &env).unwrap();
    leaks(
        "Settings' Debug",
        &format!("{settings:?}"),
        &secrets,
        &mut found,
    );
    let secret = json!({"username": "u", "password": db_password}).to_string();
    let parsed = DbSecret::parse("DB_SECRET_ID", "s", &secret).unwrap();
    leaks(
        "DbSecret's Debug",
        &format!("{parsed:?}"),
        &secrets,
        &mut found,
    );

    assert!(
        found.is_empty(),
        "secrets where they should not be: {found:#?}"
    );
    moto.stop().await;
    let _ = std::fs::remove_dir_all(&logs);
}
