use super::*;

/// What the original Python producers put on the wire: `pika.BasicProperties(content_type)`
/// and nothing else, no message id, no headers.
fn python_properties(content_type: &str) -> BasicProperties {
    BasicProperties::default().with_content_type(content_type.into())
}

fn mug(version: Option<u64>) -> ProductState {
    ProductState {
        id: 7,
        title: "Mug".into(),
        image: "https://example.com/mug.png".into(),
        likes: 0,
        version,
    }
}

// Django's `json.dumps(ProductSerializer(product).data)`: note the spaces after `:` and `,`.
const PY_PRODUCT: &[u8] =
    br#"{"id": 7, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0}"#;

#[test]
fn golden_python_product_created() {
    let env = Envelope::from_amqp(&python_properties("product_created"), PY_PRODUCT).unwrap();
    assert_eq!(env.event, Event::ProductCreated(mug(None)));
    assert_eq!(env.message_id, None);
    assert_eq!(env.trace, None);
    assert_eq!(env.timestamp, None);
}

#[test]
fn golden_python_product_updated() {
    let env = Envelope::from_amqp(&python_properties("product_updated"), PY_PRODUCT).unwrap();
    assert_eq!(env.event, Event::ProductUpdated(mug(None)));
}

#[test]
fn golden_python_product_deleted_as_string_and_number() {
    // Django's `json.dumps(pk)` where pk is the URL kwarg: a string.
    for body in [&b"\"7\""[..], b"7"] {
        let env = Envelope::from_amqp(&python_properties("product_deleted"), body).unwrap();
        assert_eq!(env.event, Event::ProductDeleted(7), "body {body:?}");
    }
}

#[test]
fn golden_python_product_liked() {
    let env = Envelope::from_amqp(&python_properties("product_liked"), b"7").unwrap();
    assert_eq!(env.event, Event::ProductLiked(7));
}

/// This system's batch of likes (docs/contract.md): the exact bytes main-api writes, and
/// what admin-consumer reads from them.
const GOLDEN_PRODUCTS_LIKED: &[u8] = br#"{"likes":[{"id":7,"count":3},{"id":9,"count":1}]}"#;

#[test]
fn golden_products_liked() {
    let batch = Event::ProductsLiked(vec![
        LikeCount { id: 7, count: 3 },
        LikeCount { id: 9, count: 1 },
    ]);
    assert_eq!(batch.body(), GOLDEN_PRODUCTS_LIKED);
    assert_eq!(batch.kind().as_str(), "products_liked");
    assert_eq!(batch.product_id(), 7);
    let env =
        Envelope::from_amqp(&python_properties("products_liked"), GOLDEN_PRODUCTS_LIKED).unwrap();
    assert_eq!(env.event, batch);
    // Ids and counts in the forms the other events accept them, and spaces.
    let loose = br#"{"likes": [{"id": "7", "count": 3.0}, {"id": 9, "count": "1"}]}"#;
    let env = Envelope::from_amqp(&python_properties("products_liked"), loose).unwrap();
    assert_eq!(env.event, batch);
    for bad in [
        &br#"{"likes":[{"id":7}]}"#[..],
        br#"{"likes":[{"id":7,"count":-1}]}"#,
        br#"[{"id":7,"count":1}]"#,
        b"7",
    ] {
        let err = Envelope::from_amqp(&python_properties("products_liked"), bad).unwrap_err();
        assert_eq!(
            err.reason(),
            "undecodable",
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn ids_and_likes_in_the_forms_hand_made_and_older_messages_have_them() {
    // An id or like count may come as a string (with spaces around it), or as a whole
    // float; a like count the producer left empty is `null`, and absent is zero too.
    let body =
        br#"{"id": " 7 ", "title": "Mug", "image": "https://example.com/mug.png", "likes": null}"#;
    let env = Envelope::from_amqp(&python_properties("product_created"), body).unwrap();
    assert_eq!(env.event, Event::ProductCreated(mug(None)));
    for (likes, want) in [("\"12\"", 12), ("12.0", 12), ("12", 12), ("0", 0)] {
        let body = format!(r#"{{"id": 7.0, "title": "Mug", "image": "/m.png", "likes": {likes}}}"#);
        let env = Envelope::from_amqp(&python_properties("product_updated"), body.as_bytes())
            .unwrap_or_else(|e| panic!("likes {likes}: {e}"));
        let Event::ProductUpdated(p) = env.event else {
            panic!("wrong event")
        };
        assert_eq!((p.id, p.likes), (7, want), "likes {likes}");
    }
    let body = br#"{"id": 7, "title": "Mug", "image": "/m.png"}"#;
    let env = Envelope::from_amqp(&python_properties("product_created"), body).unwrap();
    assert_eq!(env.event.product_id(), 7);
    assert!(matches!(
        env.event,
        Event::ProductCreated(ProductState { likes: 0, .. })
    ));
}

#[test]
fn like_counts_that_are_not_whole_non_negative_numbers_are_refused() {
    for likes in ["-1", "1.5", "-2.0", "\"many\"", "true", "[1]", "1e300"] {
        let body = format!(r#"{{"id": 7, "title": "Mug", "image": "/m.png", "likes": {likes}}}"#);
        let err = Envelope::from_amqp(&python_properties("product_created"), body.as_bytes())
            .expect_err(likes);
        let message = err.to_string();
        assert!(
            matches!(err, DecodeError::InvalidBody { .. })
                && message.contains("a non-negative integer, or a string holding one"),
            "likes {likes}: {message}"
        );
    }
}

#[test]
fn product_with_unicode_and_escapes_from_python() {
    // json.dumps escapes non-ASCII by default.
    let body = br#"{"id": 3, "title": "Caf\u00e9 \"mug\"", "image": "/img/cafe.png", "likes": 12}"#;
    let env = Envelope::from_amqp(&python_properties("product_created"), body).unwrap();
    let Event::ProductCreated(p) = env.event else {
        panic!("wrong event")
    };
    assert_eq!(p.title, "Café \"mug\"");
    assert_eq!(p.likes, 12);
}

#[test]
fn encode_then_decode_round_trips_with_all_properties() {
    let trace = TraceContext::new(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        Some("vendor=value"),
    )
    .unwrap();
    for event in [
        Event::ProductCreated(mug(Some(1))),
        Event::ProductUpdated(mug(Some(4))),
        Event::ProductDeleted(7),
        Event::ProductLiked(7),
        Event::ProductsLiked(vec![LikeCount { id: 7, count: 2 }]),
    ] {
        let out = OutgoingMessage::new(&event, Some(trace.clone()));
        let props = out.properties("admin-svc", 1_700_000_000, Some(1_700_000_000_123_456));
        assert_eq!(*props.delivery_mode(), Some(PERSISTENT));
        assert_eq!(props.app_id().as_ref().unwrap().as_str(), "admin-svc");
        let env = Envelope::from_amqp(&props, &out.body).unwrap();
        assert_eq!(env.event, event);
        assert_eq!(env.message_id.as_deref(), Some(out.message_id.as_str()));
        assert!(uuid::Uuid::parse_str(&out.message_id).is_ok());
        assert_eq!(env.timestamp, Some(1_700_000_000));
        assert_eq!(env.app_id.as_deref(), Some("admin-svc"));
        assert_eq!(env.trace.as_ref(), Some(&trace));
        assert_eq!(env.created_us, Some(1_700_000_000_123_456));
    }
}

#[test]
fn encoded_bodies_are_what_python_consumers_read() {
    // The original consumers did `json.loads(body)` and read id/title/image.
    let body = Event::ProductCreated(mug(Some(2))).body();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"id": 7, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0, "version": 2})
    );
    assert_eq!(Event::ProductDeleted(7).body(), b"7");
    assert_eq!(Event::ProductLiked(42).body(), b"42");
}

#[test]
fn each_message_gets_its_own_id() {
    let a = OutgoingMessage::new(&Event::ProductLiked(1), None);
    let b = OutgoingMessage::new(&Event::ProductLiked(1), None);
    assert_ne!(a.message_id, b.message_id);
    let props = a.properties("x", 0, None);
    let headers = props.headers().as_ref().unwrap().inner();
    assert_eq!(
        headers.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        [EVENT_VERSION_HEADER],
        "only the schema version without a trace or a commit time"
    );
}

fn with_version(content_type: &str, version: AMQPValue) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(EVENT_VERSION_HEADER.into(), version);
    python_properties(content_type).with_headers(headers)
}

#[test]
fn messages_carry_the_schema_version_and_absent_is_version_1() {
    let out = OutgoingMessage::new(&Event::ProductLiked(3), None);
    let props = out.properties("main-svc", 0, None);
    let version = props.headers().as_ref().unwrap().inner()[EVENT_VERSION_HEADER].clone();
    assert_eq!(version, AMQPValue::LongLongInt(1));
    assert!(Envelope::from_amqp(&props, b"3").is_ok());
    // The original producers send no header: version 1.
    assert!(Envelope::from_amqp(&python_properties("product_liked"), b"3").is_ok());
    for v in [AMQPValue::LongInt(1), AMQPValue::ShortString("1".into())] {
        assert!(Envelope::from_amqp(&with_version("product_liked", v), b"3").is_ok());
    }
}

#[test]
fn a_newer_or_malformed_schema_version_is_refused_with_its_reason() {
    for v in [
        AMQPValue::LongLongInt(2),
        AMQPValue::LongInt(0),
        AMQPValue::LongString("two".into()),
        AMQPValue::Boolean(true),
    ] {
        let err = Envelope::from_amqp(&with_version("product_liked", v.clone()), b"3").unwrap_err();
        assert!(
            matches!(err, DecodeError::UnsupportedVersion(_)),
            "{v:?}: {err}"
        );
        assert_eq!(err.reason(), "unknown_version");
    }
    let err = Envelope::from_amqp(
        &with_version("product_liked", AMQPValue::LongLongInt(9)),
        b"3",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "event schema version 9 is newer than this consumer knows (1)"
    );
}

#[test]
fn unknown_fields_are_ignored_and_reasons_name_the_failure() {
    let body = br#"{"id": 5, "title": "Mug", "image": "/m.png", "likes": 0, "version": 3, "colour": "red", "tags": ["a"]}"#;
    let env = Envelope::from_amqp(&python_properties("product_updated"), body).unwrap();
    match env.event {
        Event::ProductUpdated(p) => {
            assert_eq!((p.id, p.title.as_str(), p.version), (5, "Mug", Some(3)))
        }
        other => panic!("{other:?}"),
    }
    let unknown = Envelope::from_amqp(&python_properties("product_exploded"), b"7").unwrap_err();
    assert_eq!(unknown.reason(), "unknown_type");
    assert_eq!(
        Envelope::from_amqp(&BasicProperties::default(), b"7")
            .unwrap_err()
            .reason(),
        "unknown_type"
    );
    let bad = Envelope::from_amqp(&python_properties("product_liked"), b"{").unwrap_err();
    assert_eq!(bad.reason(), "undecodable");
}

#[test]
fn unknown_or_missing_content_type_is_a_typed_error() {
    let err = Envelope::from_amqp(&python_properties("product_exploded"), b"7").unwrap_err();
    assert!(matches!(err, DecodeError::UnknownContentType(ref s) if s == "product_exploded"));
    let err = Envelope::from_amqp(&BasicProperties::default(), b"7").unwrap_err();
    assert!(matches!(err, DecodeError::MissingContentType));
    let err = Envelope::from_amqp(&python_properties("application/json"), PY_PRODUCT).unwrap_err();
    assert!(matches!(err, DecodeError::UnknownContentType(_)));
}

#[test]
fn undecodable_bodies_are_typed_errors_never_panics() {
    let cases: &[(&str, &[u8])] = &[
        ("product_created", b""),
        ("product_created", b"{not json"),
        ("product_created", b"[1,2]"),
        ("product_created", br#"{"id": 7}"#),
        (
            "product_created",
            br#"{"id": "x", "title": "a", "image": "/a"}"#,
        ),
        (
            "product_created",
            br#"{"id": -1, "title": "a", "image": "/a"}"#,
        ),
        (
            "product_updated",
            br#"{"id": 1, "title": 5, "image": "/a"}"#,
        ),
        (
            "product_updated",
            br#"{"id": 1.5, "title": "t", "image": "/a"}"#,
        ),
        ("product_deleted", b""),
        ("product_deleted", b"\"abc\""),
        ("product_deleted", b"-3"),
        ("product_deleted", b"7 8"),
        ("product_deleted", b"null"),
        ("product_liked", b"{\"id\": 7}"),
        ("product_liked", b"\xff\xfe"),
        ("product_liked", b"99999999999999999999999"),
    ];
    for (ct, body) in cases {
        let err = Envelope::from_amqp(&python_properties(ct), body).unwrap_err();
        assert!(
            matches!(err, DecodeError::InvalidBody { kind, .. } if kind.as_str() == *ct),
            "{ct} {body:?}: {err}"
        );
    }
}

#[test]
fn a_malformed_trace_header_does_not_reject_the_event() {
    let mut headers = FieldTable::default();
    headers.insert(
        TRACEPARENT_HEADER.into(),
        AMQPValue::LongString("garbage".into()),
    );
    let props = python_properties("product_liked").with_headers(headers);
    let env = Envelope::from_amqp(&props, b"7").unwrap();
    assert_eq!(env.trace, None);
    assert_eq!(env.event, Event::ProductLiked(7));
}

#[test]
fn trace_context_validation() {
    let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let tc = TraceContext::new(ok, None).unwrap();
    assert_eq!(tc.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ] {
        assert!(TraceContext::new(bad, None).is_err(), "{bad}");
    }
    let generated = TraceContext::generate();
    assert_eq!(
        TraceContext::new(generated.traceparent(), None).unwrap(),
        generated
    );
}

#[test]
fn event_kinds_round_trip_through_their_names() {
    for kind in EventKind::ALL {
        assert_eq!(kind.as_str().parse::<EventKind>().unwrap(), kind);
    }
}
