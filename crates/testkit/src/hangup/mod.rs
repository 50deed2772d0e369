//! Clients that hang up before the answer, as a load generator's connections do at the end of
//! a run, or a closed browser tab: raw HTTP/1.1 writes over TCP to the two APIs, each
//! connection closed at a random point before the answer (right after the request, after a
//! few milliseconds, or mid-body), half of them with a reset (SO_LINGER 0) instead of a FIN.
//! [`crate::leftovers`] checks what they left behind.

mod report;
mod wire;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

pub use self::report::BurstReport;
pub use self::wire::{HangUp, Write, hang_up};
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
    /// The admin's API token, sent with catalogue writes.
    pub token: Option<String>,
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
            token: client.token.clone(),
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
                let status = wire::awaited_write(&mut stream, w, n, self.token.as_deref()).await;
                report.count(w, status);
                report.awaited += 1;
                if status.is_none() {
                    open = false;
                    break;
                }
            }
            if open {
                let answer = hang_up(&mut stream, write, n, how, self.token.as_deref()).await;
                report.count(write, answer);
            }
            if reset {
                let _ = stream.set_zero_linger();
            }
        }
        report
    }
}
