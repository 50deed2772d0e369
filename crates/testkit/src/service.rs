//! Service binaries spawned as real processes on free ports.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// A binary of another package of this workspace, from the target directory this test or
/// example runs in (`target/<profile>/deps/<test>` or `target/<profile>/examples/<example>`:
/// the binary is `target/<profile>/<name>`). A test's own package's binaries are
/// `env!("CARGO_BIN_EXE_…")`, which cargo builds for it; cargo never builds another
/// package's, so they must be built first: `cargo build --workspace --bins`, as
/// `scripts/test.sh` does.
pub fn workspace_binary(name: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap_or_else(|| panic!("{} is not in a target directory", exe.display()));
    let path = profile_dir.join(name);
    let release = if profile_dir.ends_with("release") {
        " --release"
    } else {
        ""
    };
    assert!(
        path.exists(),
        "{} is missing: the system tests spawn the services' binaries, which cargo does not \
         build for them; run `cargo build --workspace --bins{release}` first",
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

/// An environment variable of [`Service::spawn`]'s, not the service's: the process's
/// standard output and error go to this file instead of the test's.
pub const LOG_FILE: &str = "TESTKIT_LOG_FILE";

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
        // A test that reads a process's log lines names a file for them.
        if let Some(path) = env.get(LOG_FILE) {
            let file = std::fs::File::create(path).unwrap();
            cmd.stdout(file.try_clone().unwrap()).stderr(file);
        }
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
