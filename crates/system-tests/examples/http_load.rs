//! A closed-loop HTTP/1.1 load client for the likes rows of `scripts/bench.sh`, made for
//! what wrk cannot tell:
//!
//! - **every request it sends is awaited**: at the end of the run each connection finishes
//!   the request in hand (up to `--timeout`) instead of dropping it, so the number of `200`s
//!   it counts can be compared with the likes the shop committed (wrk leaves up to one
//!   request per connection unanswered when it stops, and the shop still commits those);
//! - **answers by status** (200, 400, 404, 429, 500, 503, other) and by request kind (likes,
//!   list reads), requests that got no answer (timed out, or the connection broke after the
//!   request was written: maybe committed) and connections that could not be opened;
//! - **latency of every answer whatever its status**, the time to connect included when a
//!   request needed a new connection (wrk leaves both out).
//!
//! Each like comes from a new shopper (a fresh `shopper_id` cookie), on a product drawn from
//! `--likes FIRST-LAST` (`--likes 7-7`: all on product 7). `--list PATH` makes
//! `--list-connections` of the connections read PATH instead.
//!
//! ```text
//! http_load --addr 127.0.0.1:5000 --connections 32 --seconds 5 --likes 1-100
//! http_load --addr 127.0.0.1:5000 --connections 2000 --seconds 10 --likes 7-7 \
//!           --list /flask/api/products --list-connections 1000 --timeout 30
//! ```
//!
//! Prints one line per kind: `like sent=… answered=… s200=… s400=… s404=… s429=… s500=…
//! s503=… s503_no_retry_after=… other=… noanswer=… connfail=… rate=… ok_rate=… p50_ms=… p99_ms=… max_ms=…`
//! (`rate`: answers per second; `ok_rate`: `200`s per second; over the time from the start
//! until the last answer). Asserts nothing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone, Debug)]
struct Options {
    addr: SocketAddr,
    connections: usize,
    seconds: f64,
    likes: (u64, u64),
    list: Option<String>,
    list_connections: usize,
    timeout: Duration,
}

fn usage(msg: &str) -> ! {
    eprintln!("http_load: {msg}");
    eprintln!(
        "usage: http_load --addr HOST:PORT [--connections N] [--seconds S] [--likes FIRST-LAST] \
         [--list PATH --list-connections M] [--timeout SECONDS]"
    );
    std::process::exit(2);
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| usage(&format!("bad value for {flag}: {value}")))
}

fn parse_options() -> Options {
    let mut o = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
        connections: 32,
        seconds: 5.0,
        likes: (1, 100),
        list: None,
        list_connections: 0,
        timeout: Duration::from_secs(30),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--addr" => o.addr = parse(&flag, &value),
            "--connections" => o.connections = parse(&flag, &value),
            "--seconds" => o.seconds = parse(&flag, &value),
            "--likes" => {
                let (a, b) = value
                    .split_once('-')
                    .unwrap_or_else(|| usage("--likes FIRST-LAST"));
                o.likes = (parse(&flag, a), parse(&flag, b));
                if o.likes.0 == 0 || o.likes.1 < o.likes.0 {
                    usage("--likes FIRST-LAST with 1 <= FIRST <= LAST");
                }
            }
            "--list" => o.list = Some(value),
            "--list-connections" => o.list_connections = parse(&flag, &value),
            "--timeout" => o.timeout = Duration::from_secs_f64(parse(&flag, &value)),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if o.list.is_none() {
        o.list_connections = 0;
    }
    if o.list_connections > o.connections {
        usage("--list-connections must not exceed --connections");
    }
    o
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Like,
    List,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    sent: u64,
    by_status: [u64; 7], // 200, 400, 404, 429, 500, 503, other
    no_answer: u64,
    /// `503`s without a `Retry-After` header.
    unavailable_without_retry_after: u64,
    connect_failures: u64,
    latencies_us: Vec<u32>,
    last_answer: Option<Instant>,
}

impl Tally {
    fn record(&mut self, status: u16, latency: Duration) {
        let slot = match status {
            200 => 0,
            400 => 1,
            404 => 2,
            429 => 3,
            500 => 4,
            503 => 5,
            _ => 6,
        };
        self.by_status[slot] += 1;
        self.latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        self.last_answer = Some(Instant::now());
    }

    fn merge(&mut self, other: Tally) {
        self.sent += other.sent;
        for (a, b) in self.by_status.iter_mut().zip(other.by_status) {
            *a += b;
        }
        self.no_answer += other.no_answer;
        self.unavailable_without_retry_after += other.unavailable_without_retry_after;
        self.connect_failures += other.connect_failures;
        self.latencies_us.extend(other.latencies_us);
        self.last_answer = self.last_answer.max(other.last_answer);
    }
}

enum Outcome {
    Answer {
        status: u16,
        keep_alive: bool,
        retry_after: bool,
    },
    /// Written, but no complete answer: timed out or the connection broke.
    NoAnswer,
}

fn like_request(o: &Options, host: &str) -> Vec<u8> {
    let (first, last) = o.likes;
    let id = uuid::Uuid::new_v4();
    let product = first + (id.as_u128() % u128::from(last - first + 1)) as u64;
    // A new shopper: a cookie nobody has used (the shop accepts any well-formed id).
    let shopper = uuid::Uuid::new_v4();
    format!(
        "POST /flask/api/products/{product}/like HTTP/1.1\r\nHost: {host}\r\n\
         Cookie: shopper_id={shopper}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Reads one response off `stream`: its status and whether the connection stays open.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Outcome> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = response.code.unwrap_or(0);
                let mut length = None;
                let mut chunked = false;
                let mut keep_alive = response.version == Some(1);
                let mut retry_after = false;
                for h in response.headers.iter() {
                    retry_after |= h.name.eq_ignore_ascii_case("retry-after");
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse::<usize>().ok());
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        chunked = h.value.eq_ignore_ascii_case(b"chunked");
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        keep_alive = !h.value.eq_ignore_ascii_case(b"close");
                    }
                }
                // The body: by its length, or (chunked) until the last chunk's terminator.
                loop {
                    let body = &buf[head_len..];
                    let done = match (length, chunked) {
                        (Some(n), _) => body.len() >= n,
                        (None, true) => body.ends_with(b"0\r\n\r\n"),
                        (None, false) => {
                            // No length: the body ends when the server closes.
                            keep_alive = false;
                            true
                        }
                    };
                    if done {
                        return Ok(Outcome::Answer {
                            status,
                            keep_alive,
                            retry_after,
                        });
                    }
                    let n = stream.read(&mut chunk).await?;
                    if n == 0 {
                        return Ok(Outcome::NoAnswer);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
            Ok(httparse::Status::Partial) => {}
            Err(_) => return Ok(Outcome::NoAnswer),
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Outcome::NoAnswer);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn connection(o: Options, kind: Kind, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let host = o.addr.to_string();
    let list_request = o
        .list
        .as_ref()
        .map(|path| format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes());
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(64 * 1024);
    while Instant::now() < deadline {
        let start = Instant::now();
        if stream.is_none() {
            match tokio::time::timeout(o.timeout, TcpStream::connect(o.addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                _ => {
                    tally.connect_failures += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let request = match (kind, &list_request) {
            (Kind::List, Some(r)) => r.clone(),
            _ => like_request(&o, &host),
        };
        tally.sent += 1;
        let exchange = async {
            s.write_all(&request).await?;
            read_response(s, &mut buf).await
        };
        match tokio::time::timeout(o.timeout, exchange).await {
            Ok(Ok(Outcome::Answer {
                status,
                keep_alive,
                retry_after,
            })) => {
                tally.record(status, start.elapsed());
                if status == 503 && !retry_after {
                    tally.unavailable_without_retry_after += 1;
                }
                if !keep_alive {
                    stream = None;
                }
            }
            _ => {
                tally.no_answer += 1;
                stream = None;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn report(name: &str, mut t: Tally, start: Instant) {
    t.latencies_us.sort_unstable();
    let answered: u64 = t.by_status.iter().sum();
    let elapsed = t
        .last_answer
        .map_or(0.0, |last| last.duration_since(start).as_secs_f64())
        .max(1e-9);
    let [s200, s400, s404, s429, s500, s503, other] = t.by_status;
    println!(
        "{name} sent={} answered={answered} s200={s200} s400={s400} s404={s404} s429={s429} \
         s500={s500} s503={s503} s503_no_retry_after={} other={other} noanswer={} connfail={} \
         rate={:.0} ok_rate={:.0} \
         p50_ms={:.2} p99_ms={:.2} max_ms={:.2} elapsed_s={elapsed:.2}",
        t.sent,
        t.unavailable_without_retry_after,
        t.no_answer,
        t.connect_failures,
        answered as f64 / elapsed,
        s200 as f64 / elapsed,
        percentile(&t.latencies_us, 0.5),
        percentile(&t.latencies_us, 0.99),
        percentile(&t.latencies_us, 1.0),
    );
}

#[tokio::main]
async fn main() {
    let o = parse_options();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.seconds);
    let mut tasks = Vec::with_capacity(o.connections);
    for i in 0..o.connections {
        let kind = if i < o.list_connections {
            Kind::List
        } else {
            Kind::Like
        };
        tasks.push((kind, tokio::spawn(connection(o.clone(), kind, deadline))));
    }
    let (mut likes, mut lists) = (Tally::default(), Tally::default());
    for (kind, task) in tasks {
        let Ok(tally) = task.await else { continue };
        match kind {
            Kind::Like => likes.merge(tally),
            Kind::List => lists.merge(tally),
        }
    }
    if o.list_connections < o.connections {
        report("like", likes, start);
    }
    if o.list_connections > 0 {
        report("list", lists, start);
    }
}
