//! Test support shared by the services' end-to-end tests. Everything here talks to the real
//! MariaDB and RabbitMQ: `TEST_DATABASE_URL` or `DATABASE_URL` (server URL, any database)
//! and `AMQP_URL`, defaulting to the local services.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lapin::message::BasicGetMessage;
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use sqlx::{Connection as _, MySqlConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::watch;

pub mod hangup;
pub mod leftovers;
mod stack;
pub use stack::{Overrides, Proc, ShopClient, ShopStack, WAIT};

/// The MySQL server tests use, without a database name.
pub fn mysql_server_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned());
    // Strip the database part: tests name their own.
    match url.rfind('/') {
        Some(i) if i > "mysql://".len() => url[..i].to_owned(),
        _ => url,
    }
}

/// host:port of the MySQL server tests use, for proxies in front of it.
pub fn mysql_addr() -> SocketAddr {
    let url = mysql_server_url();
    let host_port = url
        .rsplit('@')
        .next()
        .unwrap_or("127.0.0.1:3306")
        .trim_start_matches("mysql://");
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:3306")
    };
    host_port
        .replace("localhost", "127.0.0.1")
        .parse()
        .unwrap_or_else(|_| "127.0.0.1:3306".parse().unwrap())
}

pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A short unique suffix for names of databases and queues.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A database created for one test and dropped by [`TestDatabase::drop_database`].
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    /// Names a new database; the service under test creates it (DB_CREATE_IF_MISSING).
    pub fn named(prefix: &str) -> Self {
        TestDatabase {
            name: unique(prefix),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", mysql_server_url(), self.name)
    }

    pub async fn connect(&self) -> MySqlConnection {
        MySqlConnection::connect(&self.url()).await.unwrap()
    }

    pub async fn drop_database(&self) {
        let mut conn = MySqlConnection::connect(&format!("{}/mysql", mysql_server_url()))
            .await
            .unwrap();
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Reads messages off a queue with `basic.get`, acking each.
pub struct QueueReader {
    // Held so the connection lives as long as the reader.
    _conn: Connection,
    channel: lapin::Channel,
}

impl QueueReader {
    pub async fn connect() -> Self {
        Self::connect_to(&amqp_url()).await
    }

    pub async fn connect_to(url: &str) -> Self {
        let conn = Connection::connect(url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = conn.create_channel().await.unwrap();
        QueueReader {
            _conn: conn,
            channel,
        }
    }

    /// Declares `queue` (and its dead-letter queue) exactly as the services do.
    pub async fn declare(&self, queue: &str) {
        shop_runtime::amqp::declare_queue(&self.channel, queue, Duration::from_secs(10))
            .await
            .unwrap();
    }

    /// Waits until `n` messages were read from `queue`, or `timeout` passed.
    pub async fn take(&self, queue: &str, n: usize, timeout: Duration) -> Vec<BasicGetMessage> {
        self.try_take(queue, n, timeout).await.unwrap()
    }

    /// [`QueueReader::take`], returning the broker's error instead of panicking.
    pub async fn try_take(
        &self,
        queue: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<BasicGetMessage>, lapin::Error> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < n && Instant::now() < deadline {
            let got = self
                .channel
                .basic_get(queue.into(), BasicGetOptions::default())
                .await?;
            match got {
                Some(msg) => {
                    msg.delivery.ack(BasicAckOptions::default()).await?;
                    out.push(msg);
                }
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        Ok(out)
    }

    /// Publishes raw bytes with the given properties on the default exchange, as any
    /// producer (the original Python ones included) would.
    pub async fn publish(&self, queue: &str, properties: lapin::BasicProperties, body: &[u8]) {
        self.channel
            .basic_publish(
                "".into(),
                queue.into(),
                lapin::options::BasicPublishOptions::default(),
                body,
                properties,
            )
            .await
            .unwrap();
    }

    /// Deletes `queue` and its dead-letter queue.
    pub async fn delete_queues(&self, queue: &str) {
        for q in [
            queue.to_owned(),
            shop_runtime::amqp::dead_letter_queue(queue),
        ] {
            let _ = self
                .channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
}
/// A TCP proxy in front of a real server, which a test can cut and restore, so that the
/// service under test loses its broker without anyone stopping the machine's broker.
pub struct TcpProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
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
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(Ordering::SeqCst) {
                    // Down: accept and hang up at once, as a dead broker's host would.
                    drop(inbound);
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

    /// An AMQP URL through this proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}

/// The address of the local RabbitMQ, from `AMQP_URL`.
pub fn amqp_addr() -> SocketAddr {
    let url = amqp_url();
    let host_port = url
        .split('@')
        .next_back()
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5672")
        .replace("localhost", "127.0.0.1");
    host_port
        .parse()
        .unwrap_or_else(|_| "127.0.0.1:5672".parse().unwrap())
}

/// A binary of this workspace, from the target directory this test runs in. Binaries of the
/// test's own package are `env!("CARGO_BIN_EXE_…")`; the others are built by
/// `cargo test --workspace` or `cargo build --bins` (scripts/test.sh does both).
pub fn workspace_binary(name: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let path = exe.parent().and_then(|d| d.parent()).unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` first",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A service binary running for one test; killed when dropped.
pub struct Service {
    pub child: Child,
    pub base_url: String,
    pub http: reqwest::Client,
}

impl Service {
    /// Starts `binary` on a free port with `env` (and `RUST_LOG=warn` unless given), then
    /// waits until `health_path` answers at all.
    pub async fn spawn(binary: &str, env: &HashMap<String, String>, health_path: &str) -> Self {
        let port = free_port();
        let mut cmd = Command::new(binary);
        cmd.env("PORT", port.to_string())
            .env("BIND_ADDRESS", "127.0.0.1")
            .env("RUST_LOG", "warn")
            .envs(env)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().unwrap();
        let service = Service {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if service
                .http
                .get(service.url(health_path))
                .send()
                .await
                .is_ok()
            {
                return service;
            }
            assert!(
                Instant::now() < deadline,
                "{binary} did not start listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `GET path` as JSON, whatever the status; `None` if it could not be had.
    pub async fn get_json(&self, path: &str) -> Option<serde_json::Value> {
        self.http
            .get(self.url(path))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()
    }

    /// Sends SIGTERM and waits up to `limit`: the exit code, `None` for a process that did
    /// not exit in time (it is killed when dropped here) or died by a signal, and the wait.
    pub async fn terminate_within(mut self, limit: Duration) -> (Option<i32>, Duration) {
        let pid = self.child.id().unwrap();
        let start = Instant::now();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(exit) => exit.unwrap().code(),
            Err(_) => None,
        };
        (code, start.elapsed())
    }

    /// Sends SIGTERM and returns the exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("service did not stop within 20 s of SIGTERM")
            .unwrap()
            .code()
    }
}

/// Polls `check` until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A RabbitMQ node of its own (other ports, its own data directory under /tmp), for tests
/// that stop and restart the broker without touching the machine's. Stopped and removed
/// when dropped.
pub struct RabbitNode {
    pub name: String,
    pub port: u16,
    dist_port: u16,
    dir: std::path::PathBuf,
}

impl RabbitNode {
    /// Boots a node and waits until it accepts AMQP connections.
    pub async fn start() -> Self {
        let port = free_port();
        let dist_port = free_port();
        let name = format!("{}@localhost", unique("shoptest"));
        let dir = std::env::temp_dir().join(unique("rabbit-node"));
        for sub in ["mnesia", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"),
        )
        .unwrap();
        std::fs::write(dir.join("enabled_plugins"), "[].\n").unwrap();
        // The server drops to the rabbitmq user when started as root.
        let _ = std::process::Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status();
        let node = RabbitNode {
            name,
            port,
            dist_port,
            dir,
        };
        node.boot().await;
        node
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let d = |s: &str| self.dir.join(s).to_string_lossy().into_owned();
        vec![
            ("RABBITMQ_NODENAME", self.name.clone()),
            ("RABBITMQ_NODE_PORT", self.port.to_string()),
            ("RABBITMQ_DIST_PORT", self.dist_port.to_string()),
            ("RABBITMQ_CONFIG_FILE", d("rabbitmq")),
            ("RABBITMQ_MNESIA_BASE", d("mnesia")),
            ("RABBITMQ_LOG_BASE", d("log")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins")),
            ("RABBITMQ_PID_FILE", d("pid")),
        ]
    }

    /// Starts the node (again, after [`RabbitNode::stop`]: queues and persistent messages
    /// come back from its data directory).
    pub async fn boot(&self) {
        let status = std::process::Command::new("rabbitmq-server")
            .arg("-detached")
            .envs(self.env())
            .stdout(Stdio::null())
            .status()
            .expect("rabbitmq-server must be installed");
        assert!(status.success(), "rabbitmq-server -detached failed");
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(conn) =
                Connection::connect(&self.amqp_url(), ConnectionProperties::default()).await
            {
                let _ = conn.close(200, "ready".into()).await;
                return;
            }
            let _ = TcpStream::connect(addr).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "RabbitMQ node {} did not start within 90 s (logs in {})",
            self.name,
            self.dir.display()
        );
    }

    /// Stops the whole node (the Erlang VM too), closing every connection.
    pub fn stop(&self) {
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["-q", "-n", &self.name, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
