//! nginx in front of a test's APIs, with the shop's own server block
//! (`frontend/nginx/default.conf.template`), as browsers reach the shop. Static files are a
//! placeholder page: these tests are about the API paths.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::{free_port, unique};

pub struct Nginx {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

fn template(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../frontend/nginx")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Nginx {
    /// Starts nginx on a free port, proxying `/api/` to `admin` and `/flask/` to `main`
    /// (`host:port` each), and waits until it accepts connections. Stopped when dropped.
    pub async fn start(admin: &str, main: &str) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(unique("nginx"));
        for sub in ["logs", "tmp", "static"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(
            dir.join("static/index.html"),
            "<!doctype html><title>shop</title>",
        )
        .unwrap();
        let server = template("default.conf.template")
            .replace("${NGINX_PORT}", &port.to_string())
            .replace("${STATIC_ROOT}", &dir.join("static").to_string_lossy())
            .replace("${ADMIN_API}", admin)
            .replace("${MAIN_API}", main);
        std::fs::write(dir.join("default.conf"), server).unwrap();
        let frame =
            template("local.conf.template").replace("${NGINX_PREFIX}", &dir.to_string_lossy());
        std::fs::write(dir.join("nginx.conf"), frame).unwrap();
        let child = Command::new("nginx")
            .args([
                "-p",
                &dir.to_string_lossy(),
                "-c",
                "nginx.conf",
                "-g",
                "daemon off;",
            ])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx is installed (scripts/test.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nginx did not start on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        crate::sockets::assert_owned("nginx", port, child.id());
        Nginx { port, dir, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// nginx's error log, for a failing test's message.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("logs/error.log")).unwrap_or_default()
    }
}

/// SIGTERM (nginx's fast shutdown: the master stops its workers, then exits), not SIGKILL:
/// a killed master leaves its workers running, holding the port and the test's output.
impl Drop for Nginx {
    fn drop(&mut self) {
        crate::service::stop(&mut self.child, Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
