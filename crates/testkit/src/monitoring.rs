//! The monitoring side of the stack, as real processes: Debian's `prometheus` with a config
//! of the test's own, and `prometheus-mysqld-exporter` in front of the test MariaDB. Both
//! run on free ports with their files in a directory of their own, and are killed and
//! removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection as _, MySqlConnection};
use tokio::process::{Child, Command};

use crate::{free_port, mysql_addr, mysql_server_url, unique};

/// The MariaDB user mysqld_exporter logs in as, with the rights its default collectors need
/// (`SLAVE MONITOR`: MariaDB 10.5 split it from `REPLICATION CLIENT`; the replica status
/// collector needs it).
pub const EXPORTER_USER: &str = "exporter";
const EXPORTER_PASSWORD: &str = "exporter-test-password";

/// A program this module runs: on PATH, or the error says how to install it.
pub(crate) fn program(name: &str, package: &str) -> String {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{name} is not installed: `apt-get install {package}` (scripts/monitoring.sh does)"
    );
    name.to_owned()
}

/// A directory of one run's own under the temporary directory, removed when dropped.
pub(crate) struct ScratchDir(pub(crate) PathBuf);

impl ScratchDir {
    pub(crate) fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts `bin` with `args`, listening on 127.0.0.1:`port` and logging only warnings (the
/// flags Prometheus and its exporters share), and waits until `ready_path` answers 200, or
/// panics after 30 s. Killed when dropped.
pub(crate) async fn spawn_listening(
    bin: &str,
    args: &[String],
    port: u16,
    ready_path: &str,
) -> Child {
    let child = Command::new(bin)
        .args(args)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}{ready_path}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = http.get(&url).send().await
            && res.status().is_success()
        {
            crate::sockets::assert_owned(bin, port, child.id());
            return child;
        }
        assert!(
            Instant::now() < deadline,
            "{bin} did not answer {url} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// mysqld_exporter on a free port, logged in as [`EXPORTER_USER`].
pub struct MysqldExporter {
    pub port: u16,
    _child: Child,
    _dir: ScratchDir,
}

impl MysqldExporter {
    /// Creates (or keeps) the exporter's MariaDB user, then starts the exporter and waits
    /// until it serves `/metrics`.
    pub async fn start() -> Self {
        let bin = program("prometheus-mysqld-exporter", "prometheus-mysqld-exporter");
        create_exporter_user().await;
        let dir = ScratchDir::new("mysqld-exporter");
        let addr = mysql_addr();
        let cnf = dir.0.join("my.cnf");
        std::fs::write(
            &cnf,
            format!(
                "[client]\nuser={EXPORTER_USER}\npassword={EXPORTER_PASSWORD}\nhost={}\nport={}\n",
                addr.ip(),
                addr.port()
            ),
        )
        .unwrap();
        let port = free_port();
        let child = spawn_listening(
            &bin,
            &[format!("--config.my-cnf={}", cnf.display())],
            port,
            "/metrics",
        )
        .await;
        MysqldExporter {
            port,
            _child: child,
            _dir: dir,
        }
    }
}

/// The exporter's user, as docs/operating/monitoring.md tells an operator to create it:
/// idempotent, so that any number of runs (and other tests) share it.
async fn create_exporter_user() {
    let mut conn = MySqlConnection::connect(&mysql_server_url()).await.unwrap();
    for host in ["localhost", "127.0.0.1", "%"] {
        let user = format!("'{EXPORTER_USER}'@'{host}'");
        for sql in [
            format!(
                "CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{EXPORTER_PASSWORD}' WITH MAX_USER_CONNECTIONS 3"
            ),
            format!("ALTER USER {user} IDENTIFIED BY '{EXPORTER_PASSWORD}'"),
            format!("GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO {user}"),
            format!("GRANT SLAVE MONITOR ON *.* TO {user}"),
        ] {
            sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
        }
    }
    conn.close().await.unwrap();
}

/// Prometheus with the given configuration, on a free port, its storage in a directory of
/// its own.
pub struct Prometheus {
    pub url: String,
    http: reqwest::Client,
    child: Child,
    _dir: ScratchDir,
}

impl Prometheus {
    /// Writes `config` as `prometheus.yml`, starts Prometheus on it, listening on `port`
    /// (a [`free_port`], which the config may name to scrape Prometheus itself), and waits
    /// until it is ready. Paths in `config` should be absolute.
    pub async fn start(config: &str, port: u16) -> Self {
        let bin = program("prometheus", "prometheus");
        let dir = ScratchDir::new("prometheus");
        let config_file = dir.0.join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        let args = [
            format!("--config.file={}", config_file.display()),
            format!("--storage.tsdb.path={}", dir.0.join("data").display()),
        ];
        let child = spawn_listening(&bin, &args, port, "/-/ready").await;
        Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            child,
            _dir: dir,
        }
    }

    /// `GET /api/v1/<path>?<params>`: the answer's `data`, or the error Prometheus gave
    /// (`errorType: error`).
    pub async fn api(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        prometheus_api(&self.http, &self.url, path, params).await
    }

    /// An instant query's result vector.
    pub async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self.api("query", &[("query", expr)]).await?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// An instant query's single value, `None` when it has no series.
    pub async fn value(&self, expr: &str) -> Option<f64> {
        let result = self.query(expr).await.ok()?;
        result.first()?["value"][1].as_str()?.parse().ok()
    }

    /// Stops Prometheus (SIGKILL: its data is thrown away).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `GET <url>/api/v1/<path>?<params>` of any Prometheus (this module's, or the compose
/// proof's container): the answer's `data`, or the error Prometheus gave (`errorType:
/// error`).
pub async fn prometheus_api(
    http: &reqwest::Client,
    url: &str,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Value, String> {
    let res = http
        .get(format!("{url}/api/v1/{path}"))
        .query(params)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    if body["status"] == "success" {
        Ok(body["data"].clone())
    } else {
        Err(format!("{}: {}", body["errorType"], body["error"]))
    }
}

/// `grafana-prometheus/` of this repository.
pub fn monitoring_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grafana-prometheus")
}
