//! Clients that hang up before the answer, as a load generator's connections do at the end of
//! a run, or a closed browser tab: raw HTTP/1.1 writes over TCP to the two APIs, each
//! connection closed at a random point before the answer (right after the request, after a
//! few milliseconds, or mid-body), half of them with a reset (SO_LINGER 0) instead of a FIN.
//! [`crate::leftovers`] checks what they left behind.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{ShopClient, urls};

/// A small xorshift generator, seeded at random: enough to spread requests, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        Rng(uuid::Uuid::new_v4().as_u64_pair().0 | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len() as u64) as usize])
    }
}

/// A write whose client hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST /flask/api/products/{id}/like`, without a cookie: a new shopper each time.
    Like(u64),
    /// `POST /api/products`.
    Create,
    /// `PUT /api/products/{id}`.
    Update(u64),
    /// `DELETE /api/products/{id}`.
    Delete(u64),
}

impl Write {
    fn name(self) -> &'static str {
        match self {
            Write::Like(_) => "like",
            Write::Create => "create",
            Write::Update(_) => "update",
            Write::Delete(_) => "delete",
        }
    }

    /// The request line and headers (with the full `Content-Length`), and the body.
    fn request(self, n: u64) -> (String, String) {
        let (method, path, body) = match self {
            Write::Like(id) => (
                "POST",
                format!("/flask/api/products/{id}/like"),
                String::new(),
            ),
            Write::Create => (
                "POST",
                "/api/products".to_owned(),
                format!(r#"{{"title": "Hung up {n}", "image": "/img/hung-up-{n}.png"}}"#),
            ),
            Write::Update(id) => (
                "PUT",
                format!("/api/products/{id}"),
                format!(r#"{{"title": "Product {id} hung up {n}", "image": "/img/{id}-{n}.png"}}"#),
            ),
            Write::Delete(id) => ("DELETE", format!("/api/products/{id}"), String::new()),
        };
        let content_type = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/json\r\n"
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hangup\r\n{content_type}Content-Length: {}\r\n\r\n",
            body.len()
        );
        (head, body)
    }
}

/// When the client hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangUp {
    /// As soon as the request is written.
    AfterRequest,
    /// After this long, unless the answer came first.
    After(Duration),
    /// Half-way through the body: the headers announce it all. A body-less write sends a
    /// `Content-Length: 2` and one byte.
    MidBody,
}

/// A burst of hang-up clients: `clients` concurrent connections at a time, each client
/// sending `requests` writes one after another, for `rounds` rounds, stopping early at
/// `time_limit`.
#[derive(Debug, Clone)]
pub struct Burst {
    pub main: SocketAddr,
    pub admin: SocketAddr,
    /// Products the burst likes and updates.
    pub products: Vec<u64>,
    /// Products the burst deletes: a separate set, since a delete that committed turns the
    /// later ones into 404s.
    pub doomed: Vec<u64>,
    pub clients: usize,
    pub requests: usize,
    pub rounds: usize,
    /// The longest random wait before hanging up ([`HangUp::After`]).
    pub max_delay: Duration,
    /// Up to this many writes, whose answers the client awaits, go first on the same
    /// keep-alive connection, as a load generator's connections do before it stops with
    /// requests in flight.
    pub awaited_first: u64,
    pub time_limit: Duration,
}

/// What a burst did, as its clients saw it.
#[derive(Debug, Default, Clone)]
pub struct BurstReport {
    /// Requests written (in full, or up to mid-body).
    pub sent: u64,
    /// Of those, the ones whose client waited for the answer before its hang-up request.
    pub awaited: u64,
    /// Of those, the ones whose answer (its status line at least) arrived before the hang-up.
    pub answered: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests sent, by write.
    pub writes: BTreeMap<&'static str, u64>,
    /// Connections refused or timed out.
    pub not_connected: u64,
    pub elapsed: Duration,
}

impl BurstReport {
    /// Adds `other`'s figures (and its time) to this one's.
    pub fn merge(&mut self, other: BurstReport) {
        self.elapsed += other.elapsed;
        self.sent += other.sent;
        self.awaited += other.awaited;
        self.answered += other.answered;
        self.not_connected += other.not_connected;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (k, v) in other.writes {
            *self.writes.entry(k).or_default() += v;
        }
    }
}

impl fmt::Display for BurstReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let writes: Vec<String> = self
            .writes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}x{v}"))
            .collect();
        write!(
            f,
            "{} requests ({} awaited, the rest hung up on) in {:.1} s ({}), {} answered [{}], {} not connected",
            self.sent,
            self.awaited,
            self.elapsed.as_secs_f64(),
            writes.join(", "),
            self.answered,
            statuses.join(" "),
            self.not_connected
        )
    }
}

/// `127.0.0.1:port` of a base URL such as `http://127.0.0.1:8000`.
pub fn addr_of(base_url: &str) -> SocketAddr {
    urls::socket_addr(base_url, "an API's base URL", 80)
}

impl Burst {
    /// 64 clients × 20 hang-ups × 3 rounds against the stack `client` reaches, each hang-up
    /// after 0 to 2 awaited writes on its connection, hanging up within 0 to 5 ms; 30 s at
    /// most.
    pub fn new(client: &ShopClient, products: Vec<u64>, doomed: Vec<u64>) -> Self {
        Burst {
            main: addr_of(&client.main),
            admin: addr_of(&client.admin),
            products,
            doomed,
            clients: 64,
            requests: 20,
            rounds: 3,
            max_delay: Duration::from_millis(5),
            awaited_first: 2,
            time_limit: Duration::from_secs(30),
        }
    }

    /// The burst of the hang-up reproduction test and fault scenario. Narrow: 16 clients
    /// at a time that only hang up (2 × 1,600 requests, 6 s at most), so that the pools are
    /// not saturated and more hang-ups land in the middle of the database work rather than
    /// in the wait for a connection. Then wide: [`Burst::new`]'s 64 clients at a time, two
    /// thirds of them sending writes they await on a keep-alive connection before the one
    /// they hang up on, so that hang-ups land on requests at every stage, as when a load
    /// generator stops (12 s at most).
    pub async fn narrow_then_wide(
        client: &ShopClient,
        products: Vec<u64>,
        doomed: Vec<u64>,
    ) -> BurstReport {
        let wide = Burst {
            time_limit: Duration::from_secs(12),
            ..Burst::new(client, products, doomed)
        };
        let narrow = Burst {
            clients: 16,
            requests: 100,
            rounds: 2,
            awaited_first: 0,
            time_limit: Duration::from_secs(6),
            ..wide.clone()
        };
        let mut report = narrow.run().await;
        report.merge(wide.run().await);
        report
    }

    pub async fn run(&self) -> BurstReport {
        let start = Instant::now();
        let deadline = start + self.time_limit;
        let mut report = BurstReport::default();
        for round in 0..self.rounds {
            if Instant::now() >= deadline {
                break;
            }
            let mut clients = tokio::task::JoinSet::new();
            for c in 0..self.clients {
                let burst = self.clone();
                let first = ((round * self.clients + c) * self.requests) as u64;
                clients.spawn(async move { burst.client(first, deadline).await });
            }
            for part in clients.join_all().await {
                report.merge(part);
            }
        }
        report.elapsed = start.elapsed();
        report
    }

    fn pick_write(&self, rng: &mut Rng, api: Option<SocketAddr>) -> Write {
        let like = rng.pick(&self.products).map(Write::Like);
        let admin = match rng.below(10) {
            0..=2 => Some(Write::Create),
            3..=7 => rng.pick(&self.products).map(Write::Update),
            _ => rng.pick(&self.doomed).map(Write::Delete),
        };
        let pick = match api {
            Some(a) if a == self.main => like,
            Some(_) => admin,
            None if rng.below(2) == 0 => like,
            None => admin,
        };
        pick.unwrap_or(Write::Create)
    }

    fn target(&self, write: Write) -> SocketAddr {
        match write {
            Write::Like(_) => self.main,
            _ => self.admin,
        }
    }

    /// One client: `requests` writes that it hangs up on, one connection each, some after
    /// awaited writes on the same connection.
    async fn client(&self, first: u64, deadline: Instant) -> BurstReport {
        let mut rng = Rng::seeded();
        let mut report = BurstReport::default();
        for n in first..first + self.requests as u64 {
            if Instant::now() >= deadline {
                break;
            }
            let write = self.pick_write(&mut rng, None);
            let target = self.target(write);
            let awaited: Vec<Write> = (0..rng.below(self.awaited_first + 1))
                .map(|_| self.pick_write(&mut rng, Some(target)))
                .collect();
            let how = match rng.below(20) {
                0..=4 => HangUp::AfterRequest,
                5..=15 => HangUp::After(Duration::from_micros(
                    rng.below(self.max_delay.as_micros() as u64 + 1),
                )),
                _ => HangUp::MidBody,
            };
            let reset = rng.below(2) == 0;
            let Ok(Ok(mut stream)) =
                tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(target)).await
            else {
                report.not_connected += 1;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let mut open = true;
            for w in awaited {
                let status = awaited_write(&mut stream, w, n).await;
                report.count(w, status);
                report.awaited += 1;
                if status.is_none() {
                    open = false;
                    break;
                }
            }
            if open {
                let answer = hang_up(&mut stream, write, n, how).await;
                report.count(write, answer);
            }
            if reset {
                let _ = stream.set_zero_linger();
            }
        }
        report
    }
}

impl BurstReport {
    fn count(&mut self, write: Write, answer: Option<u16>) {
        self.sent += 1;
        *self.writes.entry(write.name()).or_default() += 1;
        if let Some(status) = answer {
            self.answered += 1;
            *self.statuses.entry(status).or_default() += 1;
        }
    }
}

/// Sends `write` and reads its whole answer (10 s at most), keeping the connection open;
/// the answer's status.
async fn awaited_write(stream: &mut TcpStream, write: Write, n: u64) -> Option<u16> {
    let (head, body) = write.request(n);
    let exchange = async {
        stream
            .write_all(format!("{head}{body}").as_bytes())
            .await
            .ok()?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    return status(&got);
                }
            }
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

/// Sends `write` and hangs up as `how` says (the caller closes the connection); the status
/// of an answer that came before the hang-up.
pub async fn hang_up(stream: &mut TcpStream, write: Write, n: u64, how: HangUp) -> Option<u16> {
    let (head, body) = write.request(n);
    let sent = match how {
        HangUp::MidBody if body.is_empty() => {
            let head = head.replace("Content-Length: 0", "Content-Length: 2");
            stream.write_all(format!("{head}{{").as_bytes()).await
        }
        HangUp::MidBody => {
            let half = &body.as_bytes()[..body.len() / 2];
            stream.write_all(&[head.as_bytes(), half].concat()).await
        }
        _ => stream.write_all(format!("{head}{body}").as_bytes()).await,
    };
    let mut buf = [0u8; 32];
    match (sent, how) {
        // The server hung up first (it may refuse a request at once).
        (Err(_), _) => None,
        (Ok(()), HangUp::After(delay)) => {
            match tokio::time::timeout(delay, stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => status(&buf[..n]),
                _ => None,
            }
        }
        (Ok(()), _) => match stream.try_read(&mut buf) {
            Ok(n) if n > 0 => status(&buf[..n]),
            _ => None,
        },
    }
}

/// The status code of `HTTP/1.1 200 OK…`.
fn status(answer: &[u8]) -> Option<u16> {
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}
