use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldArray, FieldTable};

use super::*;

fn original() -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert("traceparent".into(), long_string("00-abc-def-01"));
    BasicProperties::default()
        .with_content_type("product_liked".into())
        .with_message_id("m-1".into())
        .with_headers(headers)
}

fn get<'a>(p: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
    p.headers().as_ref()?.inner().get(name)
}

#[test]
fn a_dead_letter_keeps_the_original_and_reads_back_with_its_reason() {
    let long = "é".repeat(400);
    let dead = dead_letter_properties(&original(), "admin", "handler_error", &long, 3);
    assert_eq!(dead.message_id(), original().message_id());
    assert_eq!(dead.content_type(), original().content_type());
    assert_eq!(get(&dead, "traceparent"), get(&original(), "traceparent"));
    let letter = DeadLetter::read(&dead, b"7");
    assert_eq!(letter.id, "m-1");
    assert_eq!(letter.event, "product_liked");
    assert_eq!(letter.reason, "handler_error");
    assert_eq!(letter.attempts, Some(3));
    assert_eq!(letter.replays, 0);
    let error = letter.error.unwrap();
    assert!(
        error.len() <= ERROR_LIMIT && error.len() > ERROR_LIMIT - 2,
        "{}",
        error.len()
    );
    assert!(letter.at.is_some());
    assert_eq!(get(&dead, QUEUE_HEADER), Some(&long_string("admin")));
}

#[test]
fn a_replay_drops_the_last_death_and_counts_itself() {
    let dead = dead_letter_properties(&original(), "admin", "wrong_queue", "wrong_queue", 1);
    let first = get(&dead, FIRST_AT_HEADER).cloned();
    let replayed = replay_properties(&dead);
    for gone in [
        REASON_HEADER,
        ERROR_HEADER,
        AT_HEADER,
        ATTEMPTS_HEADER,
        QUEUE_HEADER,
    ] {
        assert!(get(&replayed, gone).is_none(), "{gone}");
    }
    assert_eq!(
        get(&replayed, REPLAYS_HEADER),
        Some(&AMQPValue::LongLongInt(1))
    );
    assert_eq!(get(&replayed, FIRST_AT_HEADER).cloned(), first);
    assert_eq!(
        get(&replayed, "traceparent"),
        get(&original(), "traceparent")
    );
    // Dead again, then replayed again: the count goes on, the first death stays.
    let again = dead_letter_properties(&replayed, "admin", "wrong_queue", "x", 1);
    assert_eq!(DeadLetter::read(&again, b"").replays, 1);
    assert_eq!(get(&again, FIRST_AT_HEADER).cloned(), first);
    assert_eq!(
        get(&replay_properties(&again), REPLAYS_HEADER),
        Some(&AMQPValue::LongLongInt(2))
    );
}

#[test]
fn what_the_broker_dead_lettered_reads_its_reason_from_x_death() {
    let mut death = FieldTable::default();
    death.insert("reason".into(), long_string("delivery_limit"));
    death.insert("time".into(), AMQPValue::Timestamp(1_700_000_000));
    let mut headers = FieldTable::default();
    headers.insert(
        "x-death".into(),
        AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
    );
    headers.insert("x-delivery-count".into(), AMQPValue::LongLongInt(5));
    let props = BasicProperties::default().with_headers(headers);
    let letter = DeadLetter::read(&props, b"{}");
    assert_eq!(letter.reason, "delivery_limit");
    assert_eq!(letter.at, Some(1_700_000_000));
    assert_eq!(
        letter.attempts, None,
        "x-delivery-count is the dead-letter queue's own"
    );
    assert_eq!(letter.event, "-");
    assert!(letter.id.starts_with("body-"), "{}", letter.id);
    assert_eq!(letter.id, DeadLetter::read(&props, b"{}").id, "stable");
    assert_ne!(letter.id, DeadLetter::read(&props, b"{ }").id);
    let replayed = replay_properties(&props);
    assert!(get(&replayed, "x-death").is_none());
    assert!(get(&replayed, "x-delivery-count").is_none());
    let nothing = DeadLetter::read(&BasicProperties::default(), b"");
    assert_eq!(
        (nothing.reason.as_str(), nothing.at, nothing.attempts),
        ("unknown", None, None)
    );
}

#[test]
fn times_print_in_utc() {
    assert_eq!(utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(utc(4_107_542_399), "2100-02-28T23:59:59Z");
}
