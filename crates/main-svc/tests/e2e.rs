//! The whole back end, end to end: the four real binaries (admin-api, admin-consumer,
//! main-api, main-consumer) on free ports, their own two databases and two queues, the
//! machine's MariaDB and RabbitMQ.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use lapin::BasicProperties;
use lapin::types::ShortString;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{QueueReader, Service, TestDatabase, eventually};

const WAIT: Duration = Duration::from_secs(20);

struct Stack {
    admin_db: TestDatabase,
    main_db: TestDatabase,
    main_queue: String,
    admin_queue: String,
    admin_api: Service,
    admin_consumer: Service,
    main_api: Service,
    main_consumer: Service,
    broker: QueueReader,
}

impl Stack {
    async fn start() -> Self {
        let admin_db = TestDatabase::named("sys_admin");
        let main_db = TestDatabase::named("sys_main");
        let main_queue = testkit::unique("sys-main");
        let admin_queue = testkit::unique("sys-admin");
        let env = |db: &TestDatabase| -> HashMap<String, String> {
            HashMap::from([
                ("DATABASE_URL".to_owned(), db.url()),
                ("AMQP_URL".to_owned(), testkit::amqp_url()),
                ("MAIN_QUEUE".to_owned(), main_queue.clone()),
                ("ADMIN_QUEUE".to_owned(), admin_queue.clone()),
            ])
        };
        let bin = testkit::workspace_binary;
        // The APIs create and migrate the databases; the consumers wait for that.
        let admin_api = Service::spawn(&bin("admin-api"), &env(&admin_db), "/api/health").await;
        let main_api = Service::spawn(
            env!("CARGO_BIN_EXE_main-api"),
            &env(&main_db),
            "/flask/api/health",
        )
        .await;
        let admin_consumer =
            Service::spawn(&bin("admin-consumer"), &env(&admin_db), "/health").await;
        let main_consumer = Service::spawn(
            env!("CARGO_BIN_EXE_main-consumer"),
            &env(&main_db),
            "/health",
        )
        .await;
        let stack = Stack {
            admin_db,
            main_db,
            main_queue,
            admin_queue,
            admin_api,
            admin_consumer,
            main_api,
            main_consumer,
            broker: QueueReader::connect().await,
        };
        for (svc, path) in [
            (&stack.admin_api, "/api/health"),
            (&stack.main_api, "/flask/api/health"),
            (&stack.admin_consumer, "/health"),
            (&stack.main_consumer, "/health"),
        ] {
            eventually(WAIT, "every process healthy", || async {
                let res = svc.http.get(svc.url(path)).send().await.ok()?;
                (res.status() == StatusCode::OK).then_some(())
            })
            .await;
        }
        stack
    }

    async fn shop(&self) -> Vec<Value> {
        let res = self
            .main_api
            .http
            .get(self.main_api.url("/flask/api/products"))
            .send()
            .await
            .unwrap();
        res.json::<Vec<Value>>().await.unwrap()
    }

    async fn shop_product(&self, id: u64) -> Option<Value> {
        self.shop().await.into_iter().find(|p| p["id"] == id)
    }

    async fn catalogue_product(&self, id: u64) -> Value {
        let url = self.admin_api.url(&format!("/api/products/{id}"));
        self.admin_api
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Likes as the shopper whose cookie is in `jar` (filled on the first like).
    async fn like(&self, id: u64, jar: &mut Option<String>) -> StatusCode {
        let mut req = self
            .main_api
            .http
            .post(self.main_api.url(&format!("/flask/api/products/{id}/like")));
        if let Some(cookie) = jar.as_deref() {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.unwrap();
        if let Some(set) = res.headers().get("set-cookie") {
            *jar = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        res.status()
    }

    async fn consumer_metrics(&self, svc: &Service) -> String {
        svc.http
            .get(svc.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Stops every process with SIGTERM; each must exit 0.
    async fn stop(self) {
        for (name, svc) in [
            ("admin-api", self.admin_api),
            ("main-api", self.main_api),
            ("admin-consumer", self.admin_consumer),
            ("main-consumer", self.main_consumer),
        ] {
            assert_eq!(svc.terminate().await, Some(0), "{name} exits 0 on SIGTERM");
        }
        for q in [&self.main_queue, &self.admin_queue] {
            self.broker.delete_queues(q).await;
        }
        self.admin_db.drop_database().await;
        self.main_db.drop_database().await;
    }
}

#[tokio::test]
async fn catalogue_changes_reach_the_shop_and_likes_reach_the_catalogue() {
    let stack = Stack::start().await;
    let admin = &stack.admin_api;

    let res = admin
        .http
        .post(admin.url("/api/products"))
        .json(&json!({"title": "Mug", "image": "https://example.com/mug.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let mirrored = eventually(WAIT, "product in the shop", || stack.shop_product(id)).await;
    assert_eq!(
        mirrored,
        json!({"id": id, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0})
    );

    let res = admin
        .http
        .put(admin.url(&format!("/api/products/{id}")))
        .json(&json!({"title": "Big mug", "image": "/big.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    eventually(WAIT, "update in the shop", || async {
        let p = stack.shop_product(id).await?;
        (p["title"] == "Big mug" && p["image"] == "/big.png").then_some(())
    })
    .await;

    let (mut jar_a, mut jar_b) = (None, None);
    assert_eq!(stack.like(id, &mut jar_a).await, StatusCode::OK);
    assert_eq!(stack.like(id, &mut jar_a).await, StatusCode::BAD_REQUEST);
    assert_eq!(stack.like(id, &mut jar_b).await, StatusCode::OK);
    assert_ne!(jar_a, jar_b, "two shoppers, two cookies");
    assert_eq!(stack.shop_product(id).await.unwrap()["likes"], 2);
    eventually(WAIT, "likes in the catalogue", || async {
        (stack.catalogue_product(id).await["likes"] == 2).then_some(())
    })
    .await;
    // Settled: nothing more arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stack.catalogue_product(id).await["likes"], 2);

    let res = admin
        .http
        .delete(admin.url(&format!("/api/products/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    eventually(WAIT, "product gone from the shop", || async {
        stack.shop_product(id).await.is_none().then_some(())
    })
    .await;
    let mut jar_c = None;
    assert_eq!(stack.like(id, &mut jar_c).await, StatusCode::NOT_FOUND);

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
    let stack = Stack::start().await;
    let q = stack.main_queue.as_str();
    let b = &stack.broker;
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
        stack.shop_product(1004)
    })
    .await;
    // Poison dead-lettered, nothing left: the consumer went on past it.
    let shop = stack.shop().await;
    let ids: Vec<u64> = shop.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1001, 1004], "1002 deleted, 1003 never resurrected");
    assert_eq!(shop[0]["title"], "v3", "the older update did not win");

    let dead = b.take(&testkit_dlq(q), 2, WAIT).await;
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

    let metrics = stack.consumer_metrics(&stack.main_consumer).await;
    for needle in [
        r#"events_consumed_total{event="product_created",outcome="duplicate"} 1"#,
        r#"events_consumed_total{event="product_updated",outcome="ignored"} 1"#,
        r#"events_dead_lettered_total{event="product_created",reason="undecodable"} 1"#,
        r#"events_dead_lettered_total{event="other",reason="undecodable"} 1"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }

    // The like queue: the same like delivered twice counts once.
    let res = stack
        .admin_api
        .http
        .post(stack.admin_api.url("/api/products"))
        .json(&json!({"title": "Liked", "image": "/l.png"}))
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
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
    eventually(WAIT, "likes applied", || async {
        let metrics = stack.consumer_metrics(&stack.admin_consumer).await;
        metrics
            .contains(r#"events_consumed_total{event="product_liked",outcome="duplicate"} 1"#)
            .then_some(())
    })
    .await;
    eventually(WAIT, "two likes, not three", || async {
        (stack.catalogue_product(id).await["likes"] == 2).then_some(())
    })
    .await;

    stack.stop().await;
}

fn testkit_dlq(queue: &str) -> String {
    shop_runtime::amqp::dead_letter_queue(queue)
}
