//! Lists served from memory by several replicas of each API stay fresh: a product created,
//! renamed or deleted shows in every replica's next list once its change notice arrives (the
//! second replicas here check the database's versions only once in ten minutes, so only the
//! notices can make them fresh); a like shows at once in the replica that took it, and in
//! the others within their version check. After the traffic: pools back, no transaction
//! open, outboxes drained, every like whole.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;
use testkit::leftovers::{Inspector, after_traffic};
use testkit::{Overrides, Proc, Service, ShopStack, WAIT, eventually};

async fn list(svc: &Service, path: &str) -> Vec<Value> {
    svc.http
        .get(svc.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn find(list: &[Value], id: u64) -> Option<Value> {
    list.iter().find(|p| p["id"] == id).cloned()
}

/// Another replica of `p`, sharing its database and queues, that learns of changes from
/// notices only (its version check is ten minutes apart).
async fn replica(stack: &ShopStack, p: Proc) -> Service {
    stack
        .spawn_replica(p, &[("LIST_VERSION_CHECK_MS", "600000")])
        .await
}

#[tokio::test]
async fn every_replica_lists_what_changed() {
    let stack = ShopStack::start(&testkit::amqp_url(), Overrides::new()).await;
    let shop_2 = replica(&stack, Proc::MainApi).await;
    let catalogue_2 = replica(&stack, Proc::AdminApi).await;
    let (shop, catalogue) = ("/flask/api/products", "/api/products");
    let shop_1 = stack.svc(Proc::MainApi);
    let catalogue_1 = stack.svc(Proc::AdminApi);
    let everyone = [
        (shop_1, shop),
        (&shop_2, shop),
        (catalogue_1, catalogue),
        (&catalogue_2, catalogue),
    ];
    // Every replica holds a list in memory before the changes.
    for (svc, path) in everyone {
        assert!(list(svc, path).await.is_empty());
    }

    let id = stack.client.create("Mug", "/mug.png").await;
    for (svc, path) in everyone {
        eventually(
            WAIT,
            &format!("product {id} in {}{path}", svc.base_url),
            || async { find(&list(svc, path).await, id).map(|_| ()) },
        )
        .await;
    }
    stack.client.update(id, "Big mug", "/mug.png").await;
    for (svc, path) in everyone {
        eventually(
            WAIT,
            &format!("renamed in {}{path}", svc.base_url),
            || async {
                find(&list(svc, path).await, id)
                    .filter(|p| p["title"] == "Big mug")
                    .map(|_| ())
            },
        )
        .await;
    }

    // A like through the second shop replica: its own list shows it at once.
    let like = shop_2
        .http
        .post(shop_2.url(&format!("/flask/api/products/{id}/like")))
        .send()
        .await
        .unwrap();
    assert_eq!(like.status(), 200);
    assert_eq!(find(&list(&shop_2, shop).await, id).unwrap()["likes"], 1);
    // The first replica finds it with its version check; the catalogue after admin-consumer.
    for (svc, path) in [
        (shop_1, shop),
        (catalogue_1, catalogue),
        (&catalogue_2, catalogue),
    ] {
        eventually(
            WAIT,
            &format!("the like in {}{path}", svc.base_url),
            || async {
                find(&list(svc, path).await, id)
                    .filter(|p| p["likes"] == 1)
                    .map(|_| ())
            },
        )
        .await;
    }

    stack.client.delete(id).await;
    for (svc, path) in everyone {
        eventually(
            WAIT,
            &format!("deleted from {}{path}", svc.base_url),
            || async { find(&list(svc, path).await, id).is_none().then_some(()) },
        )
        .await;
    }

    // The extra replicas go; then what the traffic left behind.
    assert_eq!(shop_2.terminate().await, Some(0));
    assert_eq!(catalogue_2.terminate().await, Some(0));
    let mut inspector = Inspector::connect().await;
    for (name, check) in after_traffic(&stack, &mut inspector, WAIT).await {
        assert!(check.is_ok(), "{name}: {check:?}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_change_without_a_notice_shows_by_the_version_check() {
    // As if admin-consumer's notice were lost with its connection: the count and the
    // version row change in the database, and no notice comes. The version check (every
    // 250 ms by default) makes the list fresh.
    let stack = ShopStack::start(&testkit::amqp_url(), Overrides::new()).await;
    let id = stack.client.create("Cup", "/cup.png").await;
    let catalogue = stack.svc(Proc::AdminApi);
    assert_eq!(
        find(&list(catalogue, "/api/products").await, id).unwrap()["likes"],
        0
    );
    let pool = sqlx::MySqlPool::connect(&format!(
        "{}/{}",
        testkit::mysql_server_url(),
        stack.admin_db.name
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE products SET likes = 5 WHERE id = ?")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE cache_versions SET version = version + 1 WHERE name = 'counts'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    eventually(
        Duration::from_secs(5),
        "the new count in the catalogue",
        || async {
            find(&list(catalogue, "/api/products").await, id)
                .filter(|p| p["likes"] == 5)
                .map(|_| ())
        },
    )
    .await;
    stack.stop().await;
}
