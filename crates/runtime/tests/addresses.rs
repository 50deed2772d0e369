//! `AMQP_ADDRESSES`: `amqp::connect` tries a cluster's nodes in turn, from an offset that
//! moves on at every call, so a node that is gone (refusing, or accepting and never
//! answering) costs at most its connect timeout, and connections spread over the nodes.
//! Against the machine's broker, through proxies standing in for the nodes.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use shop_runtime::Env;
use shop_runtime::amqp;
use shop_runtime::settings::{AmqpSettings, MAIN_CONSUMER};
use testkit::TcpProxy;
use tokio::net::TcpListener;

fn settings(addresses: &str) -> AmqpSettings {
    let url = testkit::amqp_url();
    AmqpSettings::from_env(
        &Env::from_pairs([
            ("AMQP_URL", url.as_str()),
            ("AMQP_ADDRESSES", addresses),
            ("AMQP_CONNECT_TIMEOUT_MS", "500"),
        ]),
        &MAIN_CONSUMER,
    )
    .unwrap()
}

#[tokio::test]
async fn a_refusing_or_silent_node_is_skipped_and_connections_spread() {
    let first = TcpProxy::start(testkit::amqp_addr(), true).await;
    let second = TcpProxy::start(testkit::amqp_addr(), true).await;
    // Nothing listens on a free port: refused at once.
    let refused = format!("127.0.0.1:{}", testkit::free_port());
    // Accepts, never answers: only the connect timeout ends the attempt.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let s = settings(&format!(
        "{refused},{},{silent_addr},{}",
        first.addr, second.addr
    ));

    let mut conns = Vec::new();
    for _ in 0..8 {
        let started = Instant::now();
        let conn = amqp::connect(&s, "addresses test").await.unwrap();
        // At most the refused node and the silent one (500 ms) before a live one.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(conn.status().connected());
        conns.push(conn);
    }
    // Eight calls, each starting one further along: both live nodes got some.
    assert_eq!(first.open_connections() + second.open_connections(), 8);
    assert!(
        first.open_connections() >= 2,
        "{}",
        first.open_connections()
    );
    assert!(
        second.open_connections() >= 2,
        "{}",
        second.open_connections()
    );
    for conn in conns {
        conn.close(200, "done".into()).await.unwrap();
    }
    drop(silent);
}

#[tokio::test]
async fn no_node_answering_is_an_error_within_the_timeouts() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let s = settings(&format!(
        "127.0.0.1:{},{}",
        testkit::free_port(),
        silent.local_addr().unwrap()
    ));
    let started = Instant::now();
    let err = amqp::connect(&s, "addresses test").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");
    let text = err.to_string();
    assert!(
        !text.contains("guest"),
        "no credentials in the error: {text}"
    );
}

#[tokio::test]
async fn one_url_alone_connects_as_before() {
    let s = AmqpSettings::from_env(
        &Env::from_pairs([("AMQP_URL", testkit::amqp_url().as_str())]),
        &MAIN_CONSUMER,
    )
    .unwrap();
    assert!(s.addresses.is_empty());
    let conn = amqp::connect(&s, "addresses test").await.unwrap();
    conn.close(200, "done".into()).await.unwrap();
}
