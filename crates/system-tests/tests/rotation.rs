//! Rotation: the four real processes read their database credentials from Secrets Manager
//! (moto on loopback), each from a secret of its own; while writes stream in, every secret
//! and its MariaDB user's password are rotated together. Each process must notice the
//! refusal, read its secret again and reconnect without a restart, say so in a log line and
//! in `db_credential_reloads_total`, and nothing accepted may be lost.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::leftovers::{self, Inspector};
use testkit::{DbUser, Moto, Overrides, Proc, ShopClient, ShopStack, eventually};

/// Products the likes go to, made before the stream.
const LIKED: usize = 5;
/// How long writes stream in, and when in that time the passwords change.
const STREAM: Duration = Duration::from_secs(6);
const ROTATE_AT: Duration = Duration::from_secs(2);

fn secret_id(p: Proc) -> String {
    format!("shop/{}", p.binary())
}

fn secret(user: &DbUser) -> String {
    let server = testkit::mysql_addr();
    json!({
        "username": user.name,
        "password": user.password,
        "host": server.ip().to_string(),
        "port": server.port(),
    })
    .to_string()
}

/// What one writer did: answers accepted, and every other answer.
#[derive(Debug, Default)]
struct Tally {
    accepted: Vec<u64>,
    failed: Vec<StatusCode>,
}

/// Creates products until `stop`; the ids of the accepted ones.
async fn create_until(client: ShopClient, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let res = client
            .http
            .post(format!("{}/api/products", client.admin))
            .json(&json!({"title": format!("Stream {i}"), "image": "/s.png"}))
            .send()
            .await
            .unwrap();
        match res.status() {
            StatusCode::CREATED => {
                let body: Value = res.json().await.unwrap();
                tally.accepted.push(body["id"].as_u64().unwrap());
            }
            other => tally.failed.push(other),
        }
    }
    tally
}

/// Likes `ids` in turn, each time as a new shopper, until `stop`.
async fn like_until(client: ShopClient, ids: Vec<u64>, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    for id in ids.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match client.like(*id, &mut None).await {
            StatusCode::OK => tally.accepted.push(*id),
            other => tally.failed.push(other),
        }
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_credentials_are_read_again_under_writes_and_nothing_is_lost() {
    let moto = Moto::start().await;
    let mut overrides = Overrides::new();
    for p in Proc::ALL {
        let mut env = moto.env();
        env.extend([
            ("DB_SECRET_ID", secret_id(p)),
            // Only the secret has the password.
            (
                "DATABASE_URL",
                format!(
                    "mysql://{{user}}:not-the-password@{}/{{database}}",
                    testkit::mysql_addr()
                ),
            ),
            // Connections are replaced every second, so every process opens new ones
            // after the rotation (as it would, later, with the default of 30 minutes).
            ("DB_MAX_LIFETIME_SECS", "1".into()),
            ("LOG_FORMAT", "json".into()),
            ("RUST_LOG", "info,sqlx=warn,lapin=warn".into()),
        ]);
        overrides.insert(p, env);
    }
    let logs = std::env::temp_dir().join(testkit::unique("rotation-logs"));
    let stack = ShopStack::prepare(&testkit::amqp_url(), overrides)
        .await
        .log_to(&logs);
    let mut users = [
        (Proc::AdminApi, stack.admin_users.api.clone()),
        (Proc::AdminConsumer, stack.admin_users.consumer.clone()),
        (Proc::MainApi, stack.main_users.api.clone()),
        (Proc::MainConsumer, stack.main_users.consumer.clone()),
    ];
    for (p, user) in &users {
        moto.put(&secret_id(*p), &secret(user)).await;
    }
    let stack = stack.launch().await;
    let client = stack.client.clone();

    let mut liked = Vec::new();
    for i in 0..LIKED {
        liked.push(client.create(&format!("Liked {i}"), "/l.png").await);
    }
    eventually(testkit::WAIT, "liked products mirrored", || async {
        testkit::seen(client.shop().await.len(), |n| *n == LIKED)
    })
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let creates = tokio::spawn(create_until(client.clone(), stop.clone()));
    // The likes' client retries 503s; its own count says how many.
    let liker = client.counting_apart();
    let likes = tokio::spawn(like_until(liker.clone(), liked.clone(), stop.clone()));
    let started = Instant::now();
    tokio::time::sleep(ROTATE_AT).await;
    // The secret first, then the password, as a rotation does; each process keeps using
    // its open connections, and its next new one is refused.
    for (p, user) in &mut users {
        let password = testkit::unique("rotated");
        let mut next = user.clone();
        next.password = password.clone();
        moto.put(&secret_id(*p), &secret(&next)).await;
        user.set_password(&password).await;
    }
    let rotated_at = started.elapsed();
    tokio::time::sleep(STREAM.saturating_sub(started.elapsed())).await;
    stop.store(true, Ordering::Relaxed);
    let creates = creates.await.unwrap();
    let likes = likes.await.unwrap();

    // Nothing accepted is lost: every created product reaches the shop, every like the
    // catalogue's count.
    let want_likes = likes.accepted.len() as u64;
    eventually(
        Duration::from_secs(30),
        "every accepted write applied",
        || async {
            let shop: Vec<u64> = client
                .shop()
                .await
                .iter()
                .map(|p| p["id"].as_u64().unwrap())
                .collect();
            let counted: u64 = client
                .catalogue()
                .await
                .iter()
                .map(|p| p["likes"].as_u64().unwrap())
                .sum();
            (creates.accepted.iter().all(|id| shop.contains(id)) && counted == want_likes)
                .then_some(())
        },
    )
    .await;
    println!(
        "rotation | passwords rotated at {:.1} s of {:.0} s | creates accepted {} failed {:?} | \
         likes accepted {} failed {:?}, 503s retried {} | lost 0",
        rotated_at.as_secs_f64(),
        STREAM.as_secs_f64(),
        creates.accepted.len(),
        creates.failed,
        likes.accepted.len(),
        likes.failed,
        liker.retried_503s(),
    );
    assert!(creates.accepted.len() > 10 && likes.accepted.len() > 10);
    // A rotation may cost a few 503s while a process reconnects, not a stream of them.
    assert!(
        liker.retried_503s() * 10 < likes.accepted.len() as u64,
        "likes answered 503 (and retried) {} times for {} accepted",
        liker.retried_503s(),
        likes.accepted.len()
    );

    // Every process read its secret again and says so; none was restarted.
    for p in Proc::ALL {
        let metrics = stack.metrics(p).await;
        let changed =
            leftovers::gauge(&metrics, "db_credential_reloads_total{outcome=\"changed\"}");
        assert!(changed >= Some(1.0), "{}: {changed:?}", p.binary());
        let log = std::fs::read_to_string(stack.log_path(p).unwrap()).unwrap();
        let line = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("reconnecting with the secret's new ones"))
            })
            .unwrap_or_else(|| panic!("{}: no reconnect line", p.binary()));
        assert_eq!(line["secret"], secret_id(p).as_str());
        for (_, user) in &users {
            assert!(
                !log.contains(&user.password),
                "{}: a password in the log",
                p.binary()
            );
        }
    }
    // And the stack is whole afterwards: caught up, outboxes drained, pools back, no
    // transaction left open, fresh reads.
    let mut inspector = Inspector::connect().await;
    let failed: Vec<String> =
        leftovers::after_traffic(&stack, &mut inspector, Duration::from_secs(30))
            .await
            .into_iter()
            .filter_map(|(name, check)| check.err().map(|e| format!("{name}: {e}")))
            .collect();
    assert!(failed.is_empty(), "after the rotation: {failed:#?}");
    stack.stop().await;
    moto.stop().await;
    let _ = std::fs::remove_dir_all(&logs);
}
