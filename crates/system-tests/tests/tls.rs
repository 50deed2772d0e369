//! TLS to the database and the broker, against servers of the test's own that it gives a
//! certificate it made (`testkit::TestCerts`, signed by a CA of its own for `localhost`
//! only): a private mariadbd (`testkit::MariaDbNode`) and a private RabbitMQ node with a
//! TLS listener. The machine's own servers are never reconfigured.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use shop_runtime::settings::{ADMIN_API, AmqpSettings, DatabaseSettings};
use shop_runtime::{Env, amqp, db};
use testkit::{MariaDbNode, QueueReader, RabbitNode, Service, TestCerts};

/// The TLS version of a connection made with `env`'s database settings ("" when
/// unencrypted), or why it could not be made.
async fn tls_version(env: &[(&str, &str)]) -> Result<String, String> {
    let settings = DatabaseSettings::from_env(&Env::from_pairs(env.iter().copied()), "mysql")
        .map_err(|e| e.to_string())?;
    let pool = db::connect(&settings, Duration::from_millis(300))
        .await
        .map_err(|e| format!("{e:#}"))?;
    let version: (String, String) = sqlx::query_as("SHOW SESSION STATUS LIKE 'Ssl_version'")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    Ok(version.1)
}

/// Connects to the broker with `env`'s AMQP settings and declares a queue: `Ok`, or why not.
async fn broker(env: &[(&str, &str)]) -> Result<(), String> {
    let settings = AmqpSettings::from_env(&Env::from_pairs(env.iter().copied()), &ADMIN_API)
        .map_err(|e| e.to_string())?;
    let conn = amqp::connect(&settings, "tls test")
        .await
        .map_err(|e| e.to_string())?;
    let channel = amqp::confirm_channel(&conn, Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    amqp::declare_queue(&channel, "tls-test", Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}

async fn global_status(node: &MariaDbNode, name: &str) -> u64 {
    let url = format!("{}/mysql?ssl-mode=disabled", node.root_url());
    let mut conn = <sqlx::MySqlConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let row: (String, String) = sqlx::query_as(&format!("SHOW GLOBAL STATUS LIKE '{name}'"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    row.1.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_the_database_and_the_broker_and_a_certificate_that_does_not_match_is_refused() {
    let certs = TestCerts::generate(&["DNS:localhost"]);
    let (mariadb, rabbit) = tokio::join!(
        MariaDbNode::start(Some(&certs)),
        RabbitNode::start_tls(&certs)
    );
    let ca = certs.ca.to_string_lossy().into_owned();
    let port = mariadb.port.to_string();
    let url = |host: &str, query: &str| format!("mysql://root@{host}:{port}/mysql?{query}");

    // The database, by the name its certificate has, verified against the test's CA.
    let verified = url(
        "localhost",
        &format!("ssl-mode=verify_identity&ssl-ca={ca}"),
    );
    let version = tls_version(&[("DATABASE_URL", &verified)]).await.unwrap();
    assert!(version.starts_with("TLSv1."), "{version:?}");
    // The same through SQL_SSL_MODE and SQL_SSL_CA.
    let by_vars = [
        ("SQL_HOST", "localhost"),
        ("SQL_PORT", port.as_str()),
        ("SQL_SSL_MODE", "VERIFY_IDENTITY"),
        ("SQL_SSL_CA", ca.as_str()),
    ];
    assert!(tls_version(&by_vars).await.unwrap().starts_with("TLSv1."));
    // By a name the certificate does not have: refused. With sqlx 0.8.6 on rustls 0.23.46
    // `verify_ca` checks the name too (sqlx's verifier that skips the name recognises only
    // rustls' older error for it): stricter than MySQL's meaning, never looser. When this
    // starts to pass, docs/operating/security.md's note on verify_ca must change.
    for mode in ["verify_identity", "verify_ca"] {
        let wrong_name = url("127.0.0.1", &format!("ssl-mode={mode}&ssl-ca={ca}"));
        let refused = tls_version(&[("DATABASE_URL", &wrong_name)])
            .await
            .unwrap_err();
        assert!(refused.contains("not valid for name"), "{mode}: {refused}");
    }
    // A CA that is not the test's (the built-in roots) does not vouch for it.
    let unknown_ca = url("localhost", "ssl-mode=verify_ca");
    let refused = tls_version(&[("DATABASE_URL", &unknown_ca)])
        .await
        .unwrap_err();
    assert!(
        refused.contains("certificate") || refused.contains("issuer"),
        "{refused}"
    );
    // And the check above can tell: without TLS the connection is plain.
    let plain = url("127.0.0.1", "ssl-mode=disabled");
    assert_eq!(tls_version(&[("DATABASE_URL", &plain)]).await.unwrap(), "");

    // The broker: amqps:// to the name in the certificate, with AMQP_CA_FILE.
    let amqps = rabbit.amqps_url("localhost");
    broker(&[("AMQP_URL", &amqps), ("AMQP_CA_FILE", &ca)])
        .await
        .unwrap();
    let wrong_name = rabbit.amqps_url("127.0.0.1");
    let refused = broker(&[("AMQP_URL", &wrong_name), ("AMQP_CA_FILE", &ca)]).await;
    assert!(
        refused.is_err(),
        "a certificate for another name was accepted"
    );
    let refused = broker(&[("AMQP_URL", &amqps)]).await;
    assert!(
        refused.is_err(),
        "a certificate of an unknown CA was accepted"
    );
    let err = broker(&[("AMQP_URL", &amqps), ("AMQP_CA_FILE", "/nonexistent.pem")])
        .await
        .unwrap_err();
    assert!(err.contains("AMQP_CA_FILE"), "{err}");

    // The real binary, over TLS to both: healthy, and a write reaches the queue.
    let queue = testkit::unique("tls-main");
    let reader = QueueReader::connect_to(&rabbit.amqp_url()).await;
    reader.declare(&queue).await;
    let accepted_before = global_status(&mariadb, "Ssl_accepts").await;
    let env = HashMap::from([
        (
            "DATABASE_URL".to_owned(),
            format!("mysql://root@localhost:{port}/shop_tls?ssl-mode=verify_identity&ssl-ca={ca}"),
        ),
        ("AMQP_URL".to_owned(), amqps.clone()),
        ("AMQP_CA_FILE".to_owned(), ca.clone()),
        ("MAIN_QUEUE".to_owned(), queue.clone()),
    ]);
    let bin = testkit::workspace_binary("admin-api");
    let token = testkit::service::admin_token(&env).await;
    let svc = Service::spawn(&bin, &env, "/api/health")
        .await
        .with_token(&token);
    svc.wait_healthy("/api/health", Duration::from_secs(30))
        .await;
    let res = svc
        .http
        .post(svc.url("/api/products"))
        .json(&json!({"title": "Sealed mug", "image": "/mug.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let got = reader.take(&queue, 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "the event crossed the TLS broker connection");
    assert!(global_status(&mariadb, "Ssl_accepts").await > accepted_before);
    assert_eq!(svc.terminate().await, Some(0));
    reader.delete_queues(&queue).await;
}
