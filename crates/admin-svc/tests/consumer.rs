//! The admin consumer's rules on a fresh database: a like adds one, once per message id.
#![allow(clippy::unwrap_used)]

use admin_svc::consumer::LikeHandler;
use events::{Envelope, Event, ProductState};
use shop_runtime::consumer::{Outcome, apply_once};
use sqlx::MySqlPool;

fn envelope(event: Event, message_id: Option<&str>) -> Envelope {
    Envelope {
        message_id: message_id.map(str::to_owned),
        timestamp: None,
        app_id: None,
        trace: None,
        created_us: None,
        event,
    }
}

async fn likes(pool: &MySqlPool, id: u64) -> u64 {
    sqlx::query_scalar("SELECT likes FROM products WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn product(pool: &MySqlPool) -> u64 {
    sqlx::query("INSERT INTO products (title, image) VALUES ('Mug', '/m.png')")
        .execute(pool)
        .await
        .unwrap()
        .last_insert_id()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn each_like_counts_once_however_often_it_is_delivered(pool: MySqlPool) {
    let id = product(&pool).await;
    let first = envelope(Event::ProductLiked(id), Some("m-1"));
    assert_eq!(
        apply_once(&pool, &LikeHandler, &first).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        apply_once(&pool, &LikeHandler, &first).await.unwrap(),
        Outcome::Duplicate
    );
    let second = envelope(Event::ProductLiked(id), Some("m-2"));
    assert_eq!(
        apply_once(&pool, &LikeHandler, &second).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(likes(&pool, id).await, 2);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn the_original_shops_likes_without_ids_are_counted(pool: MySqlPool) {
    let id = product(&pool).await;
    let props = lapin::BasicProperties::default().with_content_type("product_liked".into());
    let env = Envelope::from_amqp(&props, id.to_string().as_bytes()).unwrap();
    assert_eq!(
        apply_once(&pool, &LikeHandler, &env).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(likes(&pool, id).await, 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_like_of_a_deleted_product_is_ignored(pool: MySqlPool) {
    let env = envelope(Event::ProductLiked(42), Some("m-1"));
    assert_eq!(
        apply_once(&pool, &LikeHandler, &env).await.unwrap(),
        Outcome::Ignored("no such product")
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn product_events_on_the_like_queue_are_dead_lettered(pool: MySqlPool) {
    let id = product(&pool).await;
    let p = ProductState {
        id,
        title: "x".into(),
        image: "/x".into(),
        likes: 0,
        version: Some(1),
    };
    for event in [
        Event::ProductCreated(p.clone()),
        Event::ProductUpdated(p),
        Event::ProductDeleted(id),
    ] {
        let outcome = apply_once(&pool, &LikeHandler, &envelope(event, Some("m")))
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::DeadLetter(_)));
    }
    assert_eq!(likes(&pool, id).await, 0);
}

/// A batch of likes from main-api's group commit (`products_liked`) adds each product's
/// count once per message id: delivered again, alone or beside the original in one batch
/// of messages, it changes nothing. The original's single likes still count beside it.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_batch_of_likes_counts_once_however_often_it_is_delivered(pool: MySqlPool) {
    use events::LikeCount;
    use shop_runtime::consumer::apply_batch;
    let a = product(&pool).await;
    let b = product(&pool).await;
    let batch = Event::ProductsLiked(vec![
        LikeCount { id: a, count: 3 },
        LikeCount { id: b, count: 1 },
        // Deleted from the catalogue since: dropped, as a single like of it is.
        LikeCount { id: 9999, count: 2 },
    ]);
    let first = envelope(batch.clone(), Some("batch-1"));
    assert_eq!(
        apply_once(&pool, &LikeHandler, &first).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        apply_once(&pool, &LikeHandler, &first).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!((likes(&pool, a).await, likes(&pool, b).await), (3, 1));

    // A batch of messages: the redelivered batch, a new batch twice, a single like.
    let again = envelope(batch.clone(), Some("batch-1"));
    let second = envelope(
        Event::ProductsLiked(vec![LikeCount { id: a, count: 2 }]),
        Some("batch-2"),
    );
    let single = envelope(Event::ProductLiked(b), Some("single-1"));
    let outcomes = apply_batch(&pool, &LikeHandler, &[&again, &second, &second, &single])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        outcomes,
        [
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Duplicate,
            Outcome::Applied
        ]
    );
    assert_eq!((likes(&pool, a).await, likes(&pool, b).await), (5, 2));

    // Only products the catalogue no longer has: ignored, as a single like.
    let gone = envelope(
        Event::ProductsLiked(vec![LikeCount { id: 9999, count: 1 }]),
        Some("batch-3"),
    );
    assert_eq!(
        apply_once(&pool, &LikeHandler, &gone).await.unwrap(),
        Outcome::Ignored("no such product")
    );
}
