//! A TCP proxy that a test cuts and restores, to take a server away from the service under
//! test without stopping the machine's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy in front of a real server, which a test can cut and restore, so that the
/// service under test loses its broker without anyone stopping the machine's broker.
pub struct TcpProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
    turned_away: Arc<AtomicU64>,
}

impl TcpProxy {
    /// Starts listening on a free port of 127.0.0.1; `up` says whether it forwards yet.
    pub async fn start(upstream: SocketAddr, up: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(up));
        let (generation, _) = watch::channel(0u64);
        let flag = up.clone();
        let gen_tx = generation.clone();
        let turned_away = Arc::new(AtomicU64::new(0));
        let count = turned_away.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(Ordering::SeqCst) {
                    // Down: accept and hang up at once, as a dead broker's host would.
                    drop(inbound);
                    count.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let mut cut = gen_tx.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        TcpProxy {
            addr,
            up,
            generation,
            turned_away,
        }
    }

    /// Stops forwarding and cuts every open connection.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Connections forwarded now (each holds a subscription to the cut signal until it ends).
    pub fn open_connections(&self) -> usize {
        self.generation.receiver_count()
    }

    /// Connections hung up on at once because the proxy was cut: each is a try of the client
    /// to reach the server, proof that a reconnecting loop made another pass.
    pub fn turned_away(&self) -> u64 {
        self.turned_away.load(Ordering::SeqCst)
    }

    /// An AMQP URL through this proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}
