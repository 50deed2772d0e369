//! A RabbitMQ node of a test's own, to stop and restart.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use lapin::{Connection, ConnectionProperties};
use tokio::net::TcpStream;

use crate::tls::TestCerts;
use crate::{free_port, unique};

/// A RabbitMQ node of its own (other ports, its own data directory under /tmp), for tests
/// that stop and restart the broker without touching the machine's. Stopped and removed
/// when dropped.
pub struct RabbitNode {
    pub name: String,
    pub port: u16,
    /// The AMQPS (TLS) listener's port, when started with [`RabbitNode::start_tls`].
    pub tls_port: Option<u16>,
    /// The `rabbitmq_prometheus` plugin's port, when started with it
    /// ([`RabbitNode::start_with_prometheus`]).
    pub prometheus_port: Option<u16>,
    dist_port: u16,
    dir: std::path::PathBuf,
}

impl RabbitNode {
    /// Boots a node and waits until it accepts AMQP connections.
    pub async fn start() -> Self {
        Self::start_with(None, false).await
    }

    /// Boots a node with a TLS listener too (on [`RabbitNode::tls_port`]) that presents
    /// `certs`' server certificate.
    pub async fn start_tls(certs: &TestCerts) -> Self {
        Self::start_with(Some(certs), false).await
    }

    /// [`RabbitNode::start`], with the `rabbitmq_prometheus` plugin serving RabbitMQ's own
    /// metrics on [`RabbitNode::prometheus_port`] (what `grafana-prometheus/` scrapes), so
    /// that a test never enables plugins on the machine's broker.
    pub async fn start_with_prometheus() -> Self {
        Self::start_with(None, true).await
    }

    async fn start_with(certs: Option<&TestCerts>, prometheus: bool) -> Self {
        let port = free_port();
        let dist_port = free_port();
        let name = format!("{}@localhost", unique("shoptest"));
        let dir = std::env::temp_dir().join(unique("rabbit-node"));
        for sub in ["mnesia", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let mut conf = format!("listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n");
        let tls_port = certs.map(|certs| {
            let tls_port = free_port();
            let p = |path: &std::path::Path| path.to_string_lossy().into_owned();
            conf.push_str(&format!(
                "listeners.ssl.default = 127.0.0.1:{tls_port}\n\
                 ssl_options.cacertfile = {}\n\
                 ssl_options.certfile = {}\n\
                 ssl_options.keyfile = {}\n\
                 ssl_options.verify = verify_none\n\
                 ssl_options.fail_if_no_peer_cert = false\n",
                p(&certs.ca),
                p(&certs.cert),
                p(&certs.key)
            ));
            tls_port
        });
        let prometheus_port = prometheus.then(free_port);
        let mut plugins = "[].\n";
        if let Some(p) = prometheus_port {
            conf.push_str(&format!(
                "prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = {p}\n"
            ));
            plugins = "[rabbitmq_prometheus].\n";
        }
        std::fs::write(dir.join("rabbitmq.conf"), conf).unwrap();
        std::fs::write(dir.join("enabled_plugins"), plugins).unwrap();
        // The server drops to the rabbitmq user when started as root.
        let _ = std::process::Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status();
        let node = RabbitNode {
            name,
            port,
            tls_port,
            prometheus_port,
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

    /// Adds a user with `password` and every right on the default vhost.
    pub fn add_user(&self, name: &str, password: &str) {
        for args in [
            vec!["add_user", name, password],
            vec!["set_permissions", "-p", "/", name, ".*", ".*", ".*"],
        ] {
            let status = std::process::Command::new("rabbitmqctl")
                .args(["-q", "-n", &self.name])
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "rabbitmqctl {}", args[0]);
        }
    }

    /// `amqp://name:password@…` to this node.
    pub fn amqp_url_as(&self, name: &str, password: &str) -> String {
        format!("amqp://{name}:{password}@127.0.0.1:{}/%2f", self.port)
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

    /// `amqps://` to the TLS listener, naming the server `host` (the certificate must name
    /// it too, when verified).
    pub fn amqps_url(&self, host: &str) -> String {
        let port = self.tls_port.expect("node started without TLS");
        format!("amqps://guest:guest@{host}:{port}/%2f")
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
