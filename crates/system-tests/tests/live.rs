//! Live like counts with the real processes: a stream through nginx (the shop's own server
//! block) and one on another main-api replica each see a like within a second; the stream
//! cap answers 503; SIGTERM ends open streams and the process at once, and a client that
//! reconnects elsewhere with its last id gets what it missed; with main-api
//! unreachable, nginx closes an events request without an answer, so that a browser's
//! EventSource reconnects instead of giving up.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::sse::{SseBuffer, SseEvent};
use testkit::web::Nginx;
use testkit::{Proc, ShopStack, WAIT};

const EVENTS: &str = "/flask/api/products/events";

/// The client end of one stream, parsed as a browser does.
struct Stream {
    res: reqwest::Response,
    buf: SseBuffer,
    ended: bool,
}

type Event = SseEvent;

impl Stream {
    async fn open(http: &reqwest::Client, url: String) -> Stream {
        let res = http
            .get(url)
            .header("Accept", "text/event-stream")
            .header("Accept-Encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        Stream {
            res,
            buf: SseBuffer::default(),
            ended: false,
        }
    }

    /// The next block (an event, the opening or a comment) within `within`.
    async fn next(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(e) = self.buf.next_block() {
                return Some(e);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => self.buf.push(&bytes),
                Ok(Ok(None)) => self.ended = true,
                Ok(Err(e)) => panic!("the stream broke instead of ending: {e}"),
            }
        }
    }

    /// The next `likes` event within `within`: its data, when it came, its id.
    async fn likes(&mut self, within: Duration) -> (Value, Instant, String) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no likes event within {within:?}"));
            if e.event == "likes" {
                let data = serde_json::from_str(&e.data).unwrap();
                return (data, Instant::now(), e.id.unwrap());
            }
        }
    }
}

/// One gauge or counter of a process's `/metrics`, 0 when absent.
async fn metric(svc: &testkit::Service, series: &str) -> f64 {
    let text = svc
        .http
        .get(svc.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn likes_reach_streams_through_nginx_and_on_other_replicas_within_a_second() {
    let stack = ShopStack::start(&testkit::amqp_url(), Default::default()).await;
    let product = stack.client.create("Mug", "/img/mug.png").await;
    testkit::eventually(WAIT, "product in the shop", || {
        stack.client.shop_product(product)
    })
    .await;
    let host = |url: &str| url.trim_start_matches("http://").to_owned();
    let nginx = Nginx::start(&host(&stack.client.admin), &host(&stack.client.main)).await;
    // A second main-api holding at most one stream.
    let replica = stack
        .spawn_replica(Proc::MainApi, &[("LIVE_MAX_STREAMS", "1")])
        .await;
    let http = reqwest::Client::new();

    let mut through_nginx = Stream::open(&http, nginx.url(EVENTS)).await;
    let mut on_replica = Stream::open(&http, replica.url(EVENTS)).await;
    for (name, s) in [("nginx", &mut through_nginx), ("replica", &mut on_replica)] {
        assert_eq!(s.res.status(), 200, "{name}");
        let headers = s.res.headers();
        assert_eq!(headers["content-type"], "text/event-stream", "{name}");
        assert!(
            headers.get("content-encoding").is_none(),
            "{name}: {headers:?}"
        );
        let opening = s.next(Duration::from_secs(2)).await.unwrap();
        assert_eq!(opening.retry.as_deref(), Some("2000"), "{name}");
        assert!(opening.id.is_some(), "{name}");
    }

    // Past the replica's cap: 503 with the JSON error and Retry-After.
    let refused = http.get(replica.url(EVENTS)).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "Too many live streams open; try again later"})
    );

    // A shopper likes on the first main-api; both streams show it within a second: through
    // nginx (the process's own like) and on the replica (another process's, seen by its
    // version check).
    let liked = Instant::now();
    assert_eq!(stack.client.like(product, &mut None).await, 200);
    let expected = json!([{"id": product, "likes": 1}]);
    let (data, nginx_at, _) = through_nginx.likes(Duration::from_secs(1)).await;
    assert_eq!(data, expected);
    let (data, replica_at, position) = on_replica.likes(Duration::from_secs(1)).await;
    assert_eq!(data, expected);
    eprintln!(
        "like to event: through nginx {:?}, on another replica {:?}",
        nginx_at - liked,
        replica_at - liked
    );
    assert_eq!(metric(&replica, "live_streams_open").await, 1.0);
    assert_eq!(
        metric(&replica, "live_streams_refused_total{reason=\"full\"}").await,
        1.0
    );

    // SIGTERM with a stream open: the stream ends cleanly and the process exits at once.
    let (code, took) = replica.terminate_within(Duration::from_secs(10)).await;
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(3), "stopped in {took:?}");
    assert!(on_replica.next(Duration::from_secs(1)).await.is_none());
    assert!(on_replica.ended, "the stream ended");

    // Its browser reconnects (here to the other main-api, as after a restart behind a
    // balancer) with the last id it got, and is told what it missed meanwhile.
    assert_eq!(stack.client.like(product, &mut None).await, 200);
    let resumed = http
        .get(stack.svc(Proc::MainApi).url(EVENTS))
        .header("Last-Event-ID", &position)
        .send()
        .await
        .unwrap();
    let mut resumed = Stream {
        res: resumed,
        buf: SseBuffer::default(),
        ended: false,
    };
    let (data, _, _) = resumed.likes(Duration::from_secs(2)).await;
    assert_eq!(data, json!([{"id": product, "likes": 2}]));
    drop(resumed);

    // The stream through nginx closes; the first main-api's pool has nothing checked out.
    drop(through_nginx);
    let main = stack.svc(Proc::MainApi);
    testkit::eventually(WAIT, "streams closed, pool idle", || async {
        let open = metric(main, "live_streams_open").await;
        let in_use = metric(main, "db_pool_connections{state=\"in_use\"}").await;
        (open == 0.0 && in_use == 0.0).then_some(())
    })
    .await;

    // With main-api unreachable, nginx hangs up on an events request (the browser retries)
    // instead of answering 502 or 503 (the browser would give up); other shop routes still
    // get the JSON 503.
    let nowhere = format!("127.0.0.1:{}", testkit::free_port());
    let down = Nginx::start(&host(&stack.client.admin), &nowhere).await;
    let err = http.get(down.url(EVENTS)).send().await.unwrap_err();
    assert!(!err.is_status(), "{err}");
    let list = http
        .get(down.url("/flask/api/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 503);

    let stopped = stack.stop_within(Duration::from_secs(20)).await;
    for (p, code, took) in stopped {
        assert_eq!(code, Some(0), "{} exits 0", p.binary());
        assert!(
            took < Duration::from_secs(5),
            "{} took {took:?}",
            p.binary()
        );
    }
}
