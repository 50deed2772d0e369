//! The main consumer's rules, applied straight to a fresh database: de-duplication by
//! message id, ordering by version, final deletes, the original producers' messages, and
//! events that do not belong on the queue.
#![allow(clippy::unwrap_used)]

use events::{Envelope, Event, ProductState};
use main_svc::consumer::ProductHandler;
use shop_runtime::consumer::{Outcome, apply_once};
use sqlx::MySqlPool;

fn state(id: u64, title: &str, version: Option<u64>) -> ProductState {
    ProductState {
        id,
        title: title.into(),
        image: "/i.png".into(),
        likes: 0,
        version,
    }
}

fn envelope(event: Event) -> Envelope {
    Envelope {
        message_id: Some(uuid::Uuid::new_v4().to_string()),
        timestamp: None,
        app_id: None,
        trace: None,
        created_us: None,
        event,
    }
}

fn legacy(event: Event) -> Envelope {
    Envelope {
        message_id: None,
        ..envelope(event)
    }
}

async fn apply(pool: &MySqlPool, env: &Envelope) -> Outcome {
    apply_once(pool, &ProductHandler, env).await.unwrap()
}

/// (title, version, deleted) of a mirrored product.
async fn mirror(pool: &MySqlPool, id: u64) -> Option<(String, Option<u64>, bool)> {
    sqlx::query_as("SELECT title, version, deleted_at IS NOT NULL FROM products WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap()
}

async fn visible(pool: &MySqlPool) -> Vec<u64> {
    main_svc::db::list_products(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect()
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn the_same_message_twice_is_applied_once(pool: MySqlPool) {
    let created = envelope(Event::ProductCreated(state(1, "Mug", Some(1))));
    assert_eq!(apply(&pool, &created).await, Outcome::Applied);
    // A later update, then the create redelivered: it must not roll the title back.
    apply(
        &pool,
        &envelope(Event::ProductUpdated(state(1, "Big mug", Some(2)))),
    )
    .await;
    assert_eq!(apply(&pool, &created).await, Outcome::Duplicate);
    assert_eq!(
        mirror(&pool, 1).await,
        Some(("Big mug".into(), Some(2), false))
    );
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn an_older_version_after_a_newer_one_is_ignored(pool: MySqlPool) {
    apply(
        &pool,
        &envelope(Event::ProductCreated(state(1, "v1", Some(1)))),
    )
    .await;
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductUpdated(state(1, "v3", Some(3))))
        )
        .await,
        Outcome::Applied
    );
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductUpdated(state(1, "v2", Some(2))))
        )
        .await,
        Outcome::Ignored("stale version")
    );
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductUpdated(state(1, "v3 again", Some(3))))
        )
        .await,
        Outcome::Ignored("stale version")
    );
    assert_eq!(mirror(&pool, 1).await, Some(("v3".into(), Some(3), false)));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn an_update_that_overtakes_its_create_wins(pool: MySqlPool) {
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductUpdated(state(1, "v2", Some(2))))
        )
        .await,
        Outcome::Applied
    );
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductCreated(state(1, "v1", Some(1))))
        )
        .await,
        Outcome::Ignored("stale version")
    );
    assert_eq!(mirror(&pool, 1).await, Some(("v2".into(), Some(2), false)));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_delete_is_final(pool: MySqlPool) {
    apply(
        &pool,
        &envelope(Event::ProductCreated(state(1, "Mug", Some(1)))),
    )
    .await;
    assert_eq!(
        apply(&pool, &envelope(Event::ProductDeleted(1))).await,
        Outcome::Applied
    );
    assert_eq!(visible(&pool).await, Vec::<u64>::new());
    for late in [
        Event::ProductCreated(state(1, "Mug", Some(1))),
        Event::ProductUpdated(state(1, "Back?", Some(9))),
        Event::ProductUpdated(state(1, "Legacy back?", None)),
    ] {
        assert_eq!(
            apply(&pool, &envelope(late)).await,
            Outcome::Ignored("product deleted")
        );
    }
    assert_eq!(
        apply(&pool, &envelope(Event::ProductDeleted(1))).await,
        Outcome::Ignored("already deleted")
    );
    assert_eq!(visible(&pool).await, Vec::<u64>::new());
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_delete_that_overtakes_its_create_leaves_a_tombstone(pool: MySqlPool) {
    assert_eq!(
        apply(&pool, &envelope(Event::ProductDeleted(7))).await,
        Outcome::Applied
    );
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductCreated(state(7, "Late", Some(1))))
        )
        .await,
        Outcome::Ignored("product deleted")
    );
    assert_eq!(visible(&pool).await, Vec::<u64>::new());
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn the_original_producers_messages_are_applied(pool: MySqlPool) {
    // Decoded from the original's exact bytes, as they arrive: no message id, no version,
    // the deleted id as a string.
    let props = |ct: &str| lapin::BasicProperties::default().with_content_type(ct.into());
    let decode = |ct: &str, body: &[u8]| Envelope::from_amqp(&props(ct), body).unwrap();
    let created = decode(
        "product_created",
        br#"{"id": 5, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0}"#,
    );
    let updated = decode(
        "product_updated",
        br#"{"id": 5, "title": "Big mug", "image": "https://example.com/mug.png", "likes": 3}"#,
    );
    assert_eq!(apply(&pool, &created).await, Outcome::Applied);
    assert_eq!(apply(&pool, &updated).await, Outcome::Applied);
    assert_eq!(
        mirror(&pool, 5).await,
        Some(("Big mug".into(), None, false))
    );
    // Without an id, a redelivery is applied again; for product states that is harmless.
    assert_eq!(apply(&pool, &updated).await, Outcome::Applied);
    assert_eq!(
        apply(&pool, &decode("product_deleted", b"\"5\"")).await,
        Outcome::Applied
    );
    assert_eq!(visible(&pool).await, Vec::<u64>::new());
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed_messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(processed, 0, "nothing to remember without a message id");
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_versioned_state_replaces_a_legacy_one(pool: MySqlPool) {
    apply(
        &pool,
        &legacy(Event::ProductCreated(state(1, "legacy", None))),
    )
    .await;
    assert_eq!(
        apply(
            &pool,
            &envelope(Event::ProductUpdated(state(1, "v4", Some(4))))
        )
        .await,
        Outcome::Applied
    );
    assert_eq!(mirror(&pool, 1).await, Some(("v4".into(), Some(4), false)));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_like_event_on_the_product_queue_is_dead_lettered_without_a_trace(pool: MySqlPool) {
    let env = envelope(Event::ProductLiked(1));
    assert!(matches!(apply(&pool, &env).await, Outcome::DeadLetter(_)));
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed_messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        processed, 0,
        "a dead-lettered message is not recorded as processed"
    );
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn likes_in_the_mirror_survive_catalogue_updates(pool: MySqlPool) {
    apply(
        &pool,
        &envelope(Event::ProductCreated(state(1, "Mug", Some(1)))),
    )
    .await;
    sqlx::query(
        "INSERT INTO product_like_counts (product_id, shard, likes) VALUES (1, 0, 1), (1, 7, 3)",
    )
    .execute(&pool)
    .await
    .unwrap();
    // The catalogue's own like count travels in the event; the shop keeps its own.
    let mut update = state(1, "Big mug", Some(2));
    update.likes = 99;
    apply(&pool, &envelope(Event::ProductUpdated(update))).await;
    let p = &main_svc::db::list_products(&pool).await.unwrap()[0];
    assert_eq!((p.title.as_str(), p.likes), ("Big mug", 4));
}
