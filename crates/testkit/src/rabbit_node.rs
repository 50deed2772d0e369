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
    /// The Erlang cookie of the node (and of the CLI tools that talk to it), when it has one
    /// of its own instead of the rabbitmq user's `~/.erlang.cookie`.
    cookie: Option<String>,
}

/// How [`RabbitNode::create`] sets a node up.
#[derive(Default)]
pub struct NodeOptions<'a> {
    /// A TLS listener presenting these certificates' server certificate.
    pub certs: Option<&'a TestCerts>,
    /// The `rabbitmq_prometheus` plugin.
    pub prometheus: bool,
    /// The node's name before `@localhost` (default: unique).
    pub name: Option<String>,
    /// An Erlang cookie of its own: the server gets it with `-setcookie` (through
    /// `RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS`, which survives the Debian wrapper's `su
    /// rabbitmq`, unlike `HOME`), and every `rabbitmqctl` call with `--erlang-cookie`.
    pub cookie: Option<String>,
    /// More lines for `rabbitmq.conf`.
    pub conf: String,
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
        let node = Self::create(NodeOptions {
            certs,
            prometheus,
            ..NodeOptions::default()
        });
        node.boot().await;
        node
    }

    /// Writes a node's configuration and data directory, without starting it
    /// ([`RabbitNode::boot`] does).
    pub fn create(options: NodeOptions<'_>) -> Self {
        let NodeOptions {
            certs,
            prometheus,
            name,
            cookie,
            conf: extra_conf,
        } = options;
        let port = free_port();
        let dist_port = free_port();
        let name = format!("{}@localhost", name.unwrap_or_else(|| unique("shoptest")));
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
        conf.push_str(&extra_conf);
        std::fs::write(dir.join("rabbitmq.conf"), conf).unwrap();
        std::fs::write(dir.join("enabled_plugins"), plugins).unwrap();
        // The server drops to the rabbitmq user when started as root.
        let _ = std::process::Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status();
        RabbitNode {
            name,
            port,
            tls_port,
            prometheus_port,
            dist_port,
            dir,
            cookie,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let d = |s: &str| self.dir.join(s).to_string_lossy().into_owned();
        let mut env = vec![
            ("RABBITMQ_NODENAME", self.name.clone()),
            ("RABBITMQ_NODE_PORT", self.port.to_string()),
            ("RABBITMQ_DIST_PORT", self.dist_port.to_string()),
            ("RABBITMQ_CONFIG_FILE", d("rabbitmq")),
            ("RABBITMQ_MNESIA_BASE", d("mnesia")),
            ("RABBITMQ_LOG_BASE", d("log")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins")),
            ("RABBITMQ_PID_FILE", d("pid")),
        ];
        if let Some(cookie) = &self.cookie {
            env.push((
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                format!("-setcookie {cookie}"),
            ));
        }
        env
    }

    /// Where the node writes its logs (and its data), for a failure message.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// `rabbitmqctl -q -n <node> args…` (or `rabbitmq-queues` etc.: `tool`), with the node's
    /// cookie; its output, whether it succeeded or not.
    pub fn cli(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(tool);
        if let Some(cookie) = &self.cookie {
            cmd.args(["--erlang-cookie", cookie]);
        }
        cmd.args(["-q", "-n", &self.name])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{tool} must be installed: {e}"))
    }

    /// [`RabbitNode::cli`] with `rabbitmqctl`, panicking with its output when it fails.
    pub fn ctl(&self, args: &[&str]) -> String {
        let out = self.cli("rabbitmqctl", args);
        assert!(
            out.status.success(),
            "rabbitmqctl -n {} {}: {}{}",
            self.name,
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The OS process id of the node's Erlang VM (from its pid file), if it is running.
    pub fn os_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.dir.join("pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        std::path::Path::new(&format!("/proc/{pid}"))
            .exists()
            .then_some(pid)
    }

    /// SIGKILL of the node's Erlang VM: no shutdown, connections dropped, nothing flushed
    /// that was not on disk. [`RabbitNode::boot`] starts it again from its data directory.
    pub fn kill(&self) {
        let pid = self.os_pid().expect("the node is running");
        let status = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -KILL {pid}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(self.dir.join("pid"));
    }

    /// Starts the node (again, after [`RabbitNode::stop`]: queues and persistent messages
    /// come back from its data directory).
    pub async fn boot(&self) {
        self.start_server();
        self.wait_accepting(Duration::from_secs(90)).await;
    }

    /// `rabbitmq-server -detached`: returns at once, the node boots in the background.
    pub fn start_server(&self) {
        let status = std::process::Command::new("rabbitmq-server")
            .arg("-detached")
            .envs(self.env())
            .stdout(Stdio::null())
            .status()
            .expect("rabbitmq-server must be installed");
        assert!(status.success(), "rabbitmq-server -detached failed");
    }

    /// Waits until the node accepts AMQP connections (up to `limit`).
    pub async fn wait_accepting(&self, limit: Duration) {
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let deadline = Instant::now() + limit;
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
            "RabbitMQ node {} did not accept connections within {limit:?} (logs in {})",
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
            let out = self.cli("rabbitmqctl", &args);
            assert!(out.status.success(), "rabbitmqctl {}", args[0]);
        }
    }

    /// `amqp://name:password@…` to this node.
    pub fn amqp_url_as(&self, name: &str, password: &str) -> String {
        format!("amqp://{name}:{password}@127.0.0.1:{}/%2f", self.port)
    }

    /// Stops the whole node (the Erlang VM too), closing every connection.
    pub fn stop(&self) {
        let _ = self.cli("rabbitmqctl", &["stop"]);
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
        // A node whose VM is known to be gone (stopped by a cluster, say) needs no
        // `rabbitmqctl stop`, which takes seconds to find that out.
        let gone = std::fs::read_to_string(self.dir.join("pid"))
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !gone {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
