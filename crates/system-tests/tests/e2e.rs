//! The whole back end, end to end: the four real binaries (admin-api, admin-consumer,
//! main-api, main-consumer) on free ports, their own two databases and two queues, the
//! machine's MariaDB and RabbitMQ.
#![allow(clippy::unwrap_used)]

use lapin::BasicProperties;
use lapin::types::ShortString;
use reqwest::StatusCode;
use serde_json::json;
use testkit::{HappyPath, Proc, ShopStack, WAIT, eventually, happy_path, seen};

async fn start() -> ShopStack {
    ShopStack::start(&testkit::amqp_url(), Default::default()).await
}

#[tokio::test]
async fn catalogue_changes_reach_the_shop_and_likes_reach_the_catalogue() {
    let stack = start().await;

    // The happy path: created, listed by the shop, liked by a shopper (once), counted by the
    // catalogue.
    let HappyPath {
        id,
        listed,
        shopper: mut jar_a,
    } = happy_path(&stack.client, "Mug", "https://example.com/mug.png", WAIT).await;
    assert_eq!(
        listed,
        json!({"id": id, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0})
    );

    assert_eq!(
        stack.client.update(id, "Big mug", "/big.png").await,
        StatusCode::ACCEPTED
    );
    eventually(WAIT, "update in the shop", || async {
        let p = stack.client.shop_product(id).await?;
        (p["title"] == "Big mug" && p["image"] == "/big.png").then_some(())
    })
    .await;

    let mut jar_b = None;
    assert_eq!(stack.client.like(id, &mut jar_b).await, StatusCode::OK);
    assert_ne!(jar_a, jar_b, "two shoppers, two cookies");
    assert_eq!(stack.client.shop_product(id).await.unwrap()["likes"], 2);
    eventually(WAIT, "likes in the catalogue", || async {
        seen(
            stack.client.catalogue_product(id).await["likes"].clone(),
            |l| l == 2,
        )
    })
    .await;
    // Settled: nothing more arrives. A later like, of another product, has gone the same
    // way (one outbox, published in order, one queue, one consumer): once it is counted,
    // a like counted twice would have been counted by now.
    let marker = stack.client.create("Marker", "/marker.png").await;
    eventually(WAIT, "the marker in the shop", || {
        stack.client.shop_product(marker)
    })
    .await;
    assert_eq!(stack.client.like(marker, &mut jar_a).await, StatusCode::OK);
    eventually(WAIT, "the marker's like in the catalogue", || async {
        seen(
            stack.client.catalogue_product(marker).await["likes"].clone(),
            |l| l == 1,
        )
    })
    .await;
    assert_eq!(stack.client.catalogue_product(id).await["likes"], 2);

    stack.client.delete(id).await;
    eventually(WAIT, "product gone from the shop", || async {
        stack.client.shop_product(id).await.is_none().then_some(())
    })
    .await;
    let mut jar_c = None;
    assert_eq!(
        stack.client.like(id, &mut jar_c).await,
        StatusCode::NOT_FOUND
    );

    stack.stop().await;
}

fn props(content_type: &str, message_id: Option<&str>) -> BasicProperties {
    let p = BasicProperties::default().with_content_type(content_type.into());
    match message_id {
        Some(id) => p.with_message_id(ShortString::from(id)),
        None => p,
    }
}

#[tokio::test]
async fn redelivery_reordering_poison_and_the_original_bytes_through_the_broker() {
    let stack = start().await;
    let q = stack.main_queue.as_str();
    let b = stack.broker().await;
    let state = |id: u64, title: &str, v: u64| {
        serde_json::to_vec(
            &json!({"id": id, "title": title, "image": "/i.png", "likes": 0, "version": v}),
        )
        .unwrap()
    };

    // A create delivered twice (a crash before the ack), then an update overtaken by an
    // older one.
    b.publish(
        q,
        props("product_created", Some("m-create")),
        &state(1001, "v1", 1),
    )
    .await;
    b.publish(
        q,
        props("product_created", Some("m-create")),
        &state(1001, "v1", 1),
    )
    .await;
    b.publish(
        q,
        props("product_updated", Some("m-v3")),
        &state(1001, "v3", 3),
    )
    .await;
    b.publish(
        q,
        props("product_updated", Some("m-v2")),
        &state(1001, "v2", 2),
    )
    .await;
    // Poison in the stream: bad JSON, an unknown event type.
    b.publish(
        q,
        props("product_created", Some("m-bad")),
        b"{\"id\": 1, \"title\": ",
    )
    .await;
    b.publish(q, props("product_exploded", Some("m-unknown")), b"{}")
        .await;
    // The original Python producer's exact bytes: no message id, the deleted id a string.
    b.publish(
        q,
        props("product_created", None),
        br#"{"id": 1002, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0}"#,
    )
    .await;
    b.publish(q, props("product_deleted", None), b"\"1002\"")
        .await;
    // A delete overtaking its create.
    b.publish(q, props("product_deleted", Some("m-del")), b"1003")
        .await;
    b.publish(
        q,
        props("product_created", Some("m-late")),
        &state(1003, "late", 1),
    )
    .await;
    // The good message after everything: applied, so nothing above blocked the queue.
    b.publish(
        q,
        props("product_created", Some("m-last")),
        &state(1004, "last", 1),
    )
    .await;

    eventually(WAIT, "the last message applied", || {
        stack.client.shop_product(1004)
    })
    .await;
    let shop = stack.client.shop().await;
    let ids: Vec<u64> = shop.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1001, 1004], "1002 deleted, 1003 never resurrected");
    assert_eq!(shop[0]["title"], "v3", "the older update did not win");

    let dead = b
        .take(&shop_runtime::amqp::dead_letter_queue(q), 2, WAIT)
        .await;
    let mut dead: Vec<(String, Vec<u8>)> = dead
        .iter()
        .map(|m| {
            let ct = m
                .delivery
                .properties
                .content_type()
                .as_ref()
                .unwrap()
                .to_string();
            (ct, m.delivery.data.clone())
        })
        .collect();
    dead.sort();
    assert_eq!(
        dead,
        [
            (
                "product_created".to_owned(),
                b"{\"id\": 1, \"title\": ".to_vec()
            ),
            ("product_exploded".to_owned(), b"{}".to_vec()),
        ],
        "both poison messages, intact, in the dead-letter queue"
    );

    let metrics = stack.metrics(Proc::MainConsumer).await;
    for needle in [
        r#"events_consumed_total{event="product_created",outcome="duplicate"} 1"#,
        r#"events_consumed_total{event="product_updated",outcome="ignored"} 1"#,
        r#"events_dead_lettered_total{event="product_created",reason="undecodable"} 1"#,
        r#"events_dead_lettered_total{event="other",reason="unknown_type"} 1"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }

    // The like queue: the same like delivered twice counts once; a legacy like (no id) counts.
    let id = stack.client.create("Liked", "/l.png").await;
    let aq = stack.admin_queue.as_str();
    b.publish(
        aq,
        props("product_liked", Some("like-1")),
        id.to_string().as_bytes(),
    )
    .await;
    b.publish(
        aq,
        props("product_liked", Some("like-1")),
        id.to_string().as_bytes(),
    )
    .await;
    b.publish(aq, props("product_liked", None), id.to_string().as_bytes())
        .await;
    eventually(WAIT, "the duplicate like seen", || async {
        let metrics = stack.metrics(Proc::AdminConsumer).await;
        metrics
            .contains(r#"events_consumed_total{event="product_liked",outcome="duplicate"} 1"#)
            .then_some(())
    })
    .await;
    eventually(WAIT, "two likes, not three", || async {
        seen(
            stack.client.catalogue_product(id).await["likes"].clone(),
            |l| l == 2,
        )
    })
    .await;

    stack.stop().await;
}

/// Metric families in a Prometheus text exposition that have samples but no `# HELP` line.
fn families_without_help(text: &str) -> Vec<String> {
    let mut helped = std::collections::BTreeSet::new();
    let mut sampled = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap_or_default().to_owned());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            // A histogram's series carry suffixes; its HELP names the family.
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| helped.contains(*f)))
                .unwrap_or(name);
            sampled.insert(family.to_owned());
        }
    }
    sampled.difference(&helped).cloned().collect()
}

#[tokio::test]
async fn every_metric_family_of_every_process_has_help_text() {
    let stack = start().await;
    // Traffic through every path that records metrics: a write, its event, a like, its
    // event, a 404.
    let id = stack.client.create("Mug", "/mug.png").await;
    eventually(WAIT, "product in the shop", || {
        stack.client.shop_product(id)
    })
    .await;
    let mut jar = None;
    assert_eq!(stack.client.like(id, &mut jar).await, StatusCode::OK);
    eventually(WAIT, "like in the catalogue", || async {
        seen(
            stack.client.catalogue_product(id).await["likes"].clone(),
            |l| l == 1,
        )
    })
    .await;
    assert_eq!(
        stack.client.like(id + 1000, &mut None).await,
        StatusCode::NOT_FOUND
    );
    for p in Proc::ALL {
        let text = stack.metrics(p).await;
        assert!(
            text.lines().any(|l| !l.starts_with('#')),
            "{} exposes metrics",
            p.binary()
        );
        let missing = families_without_help(&text);
        assert!(
            missing.is_empty(),
            "{}: metric families without help text: {missing:?}",
            p.binary()
        );
    }
    stack.stop().await;
}

/// MySQL's answer to `sql` run as `user` on `database`: `Ok` or the error number.
async fn run_as(user: &testkit::DbUser, database: &str, sql: &str) -> Result<(), u16> {
    use sqlx::Connection;
    let number = |e: sqlx::Error| {
        e.as_database_error()
            .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
            .map_or(0, |d| d.number())
    };
    let mut conn = sqlx::MySqlConnection::connect(&user.url(database))
        .await
        .map_err(number)?;
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(number)
}

/// The stack ran every test above as four database users with only their own rights
/// (`scripts/grants.sql`); this checks that those rights are as narrow as
/// docs/operating/security.md says, so that a consumer that ran DDL, or a service that read
/// the other's database, would have failed those tests.
#[tokio::test]
async fn each_process_has_only_the_rights_it_needs() {
    let stack = start().await;
    let (admin, main) = (&stack.admin_db.name, &stack.main_db.name);
    // MySQL errors: 1142 command denied on a table, 1044 access denied to a database.
    const DENIED: [u16; 2] = [1142, 1044];
    for (users, own, other) in [
        (&stack.admin_users, admin, main),
        (&stack.main_users, main, admin),
    ] {
        let consumer = &users.consumer;
        // A consumer reads and writes rows of its own database…
        run_as(consumer, own, "SELECT COUNT(*) FROM products")
            .await
            .unwrap();
        run_as(consumer, own, "DELETE FROM processed_messages WHERE 1 = 0")
            .await
            .unwrap();
        // …and runs no DDL there.
        for ddl in [
            "CREATE TABLE consumer_ddl (id INT)",
            "ALTER TABLE products ADD COLUMN consumer_ddl INT",
            "DROP TABLE processed_messages",
            "CREATE INDEX consumer_ddl ON products (title)",
        ] {
            let denied = run_as(consumer, own, ddl).await.unwrap_err();
            assert!(
                DENIED.contains(&denied),
                "{}: {ddl}: {denied}",
                consumer.name
            );
        }
        // Neither of a service's users reaches the other service's database.
        for user in [&users.api, consumer] {
            let denied = run_as(
                user,
                own,
                &format!("SELECT COUNT(*) FROM `{other}`.products"),
            )
            .await
            .unwrap_err();
            assert!(DENIED.contains(&denied), "{}: {denied}", user.name);
            let denied = run_as(user, other, "SELECT 1").await.unwrap_err();
            assert_eq!(denied, 1044, "{} connects to {other}", user.name);
        }
        // The API may not drop its own tables either: migrations only create and alter.
        let denied = run_as(&users.api, own, "DROP TABLE outbox")
            .await
            .unwrap_err();
        assert!(DENIED.contains(&denied), "{}", users.api.name);
    }
    stack.stop().await;
}
