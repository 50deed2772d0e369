//! Service binaries spawned as real processes on free ports.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::sockets;

/// A binary of another package of this workspace, from the target directory this test or
/// example runs in (`target/<profile>/deps/<test>` or `target/<profile>/examples/<example>`:
/// the binary is `target/<profile>/<name>`). A test's own package's binaries are
/// `env!("CARGO_BIN_EXE_…")`, which cargo builds for it; cargo never builds another
/// package's, so they must be built first: `cargo build --workspace --bins`, as
/// `scripts/test.sh` does.
///
/// `SHOP_BIN_DIR=DIR` takes the services' binaries from `DIR` instead (an absolute path, or
/// one relative to the workspace's root): the release build's, say, while the tests
/// themselves are a debug build (`SHOP_BIN_DIR=target/release`). [`binary_in`] names a
/// binary of any other directory (the previous release's, beside the current ones).
pub fn workspace_binary(name: &str) -> String {
    if let Some(dir) = std::env::var_os("SHOP_BIN_DIR").filter(|d| !d.is_empty()) {
        return binary_in(Path::new(&dir), name);
    }
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

/// `dir/name`, checked to exist; a relative `dir` is taken from the workspace's root.
pub fn binary_in(dir: &Path, name: &str) -> String {
    let dir = if dir.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
    } else {
        dir.to_path_buf()
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (SHOP_BIN_DIR, or the directory a test names)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// The command that runs `binary` for a test: `env` over this process's environment, bound
/// to 127.0.0.1, `RUST_LOG=warn` unless `env` says otherwise, and no `AWS_*` variable of
/// this process's: a test names its own endpoint and credentials, so that no test can ever
/// reach a real AWS account. The environment includes `LLVM_PROFILE_FILE` under coverage
/// (`scripts/test.sh`): the child writes its profile beside the tests'. A child still
/// running when its handle is dropped is killed; a [`Service`] stops its child with
/// SIGTERM first ([`stop`]).
pub fn command(binary: &str, env: &HashMap<String, String>) -> Command {
    let mut cmd = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("BIND_ADDRESS", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .envs(env)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Runs `binary` (on a free port, as [`command`] sets it up) until it exits, at most `limit`:
/// its exit code and everything it printed, stdout then stderr. For starts that must fail.
pub async fn run_to_exit(
    binary: &str,
    env: &HashMap<String, String>,
    limit: Duration,
) -> (Option<i32>, String) {
    run_args_to_exit(binary, &[], env, limit).await
}

/// [`run_to_exit`] with command-line arguments.
pub async fn run_args_to_exit(
    binary: &str,
    args: &[&str],
    env: &HashMap<String, String>,
    limit: Duration,
) -> (Option<i32>, String) {
    let mut cmd = command(binary, env);
    cmd.args(args)
        .env("PORT", free_port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::time::timeout(limit, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{binary} did not exit within {limit:?}"))
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), printed)
}

/// A TCP port of 127.0.0.1 that was free a moment ago. Only a moment: it is released before
/// anyone binds it, so another process may take it first; [`Service::spawn_with`] checks
/// who answers on it, and starts its binary again on another port when it was taken.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `Ok` when `GET url` answers 200; otherwise what it answered (status and body) or why it
/// could not: for [`crate::eventually`] to report.
pub async fn answers_ok(http: &reqwest::Client, url: String) -> Result<(), String> {
    match http.get(&url).send().await {
        Ok(res) if res.status() == reqwest::StatusCode::OK => Ok(()),
        Ok(res) => Err(format!(
            "{} {}",
            res.status(),
            res.text().await.unwrap_or_default()
        )),
        Err(e) => Err(format!("no answer: {e}")),
    }
}

/// How a start on a port ended.
enum Ready {
    Yes,
    /// Another process had the port; how that showed.
    PortTaken(String),
    /// The process exited, nobody else on its port: its exit status.
    Exited(String),
    TimedOut,
}

/// A service binary running for one test; stopped when dropped ([`stop`]: SIGTERM, then
/// SIGKILL if it has not exited within [`STOP_PATIENCE`]).
pub struct Service {
    pub child: Child,
    pub base_url: String,
    pub http: reqwest::Client,
}

/// An API token for catalogue writes, made by `admin-api create-token` with `env` (the
/// admin database's settings). The token is the line of its output that starts `shop_`
/// (log lines may come first).
pub async fn admin_token(env: &HashMap<String, String>) -> String {
    admin_token_of(&workspace_binary("admin-api"), env).await
}

/// [`admin_token`] made by the admin-api at `binary` (another release's, say).
pub async fn admin_token_of(binary: &str, env: &HashMap<String, String>) -> String {
    let out = command(binary, env)
        .args(["create-token", "--name", &crate::unique("testkit")])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("shop_"))
        .unwrap_or_else(|| {
            panic!(
                "admin-api create-token printed no token: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_owned()
}

impl Service {
    /// Sends `token` as the admin's bearer token on every request of [`Service::http`].
    pub fn with_token(mut self, token: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        self.http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        self
    }

    /// Starts `binary` on a free port with `env` (and `RUST_LOG=warn` unless given), then
    /// waits until `health_path` answers at all, from this process (see
    /// [`Service::spawn_with`]).
    pub async fn spawn(binary: &str, env: &HashMap<String, String>, health_path: &str) -> Self {
        Self::spawn_with(binary, env, health_path, None).await
    }

    /// As [`Service::spawn`], with everything the process prints (stdout and stderr)
    /// appended to `log` when given.
    ///
    /// Ready means: `health_path` answered (any status), the process is still running, and
    /// every socket listening on its port is one it holds (`/proc`), before and after the
    /// answer; so the answer came from it, never from another process that took the port
    /// [`free_port`] let go of. When another process holds the port, or the process exited
    /// while another one listens there, it was taken: the process is stopped and started
    /// again on another port (up to five ports). A process that exits otherwise fails the
    /// test with its exit status.
    pub async fn spawn_with(
        binary: &str,
        env: &HashMap<String, String>,
        health_path: &str,
        log: Option<&Path>,
    ) -> Self {
        Self::spawn_on(binary, env, health_path, log, free_port).await
    }

    /// [`Service::spawn_with`] on the ports `next_port` gives.
    async fn spawn_on(
        binary: &str,
        env: &HashMap<String, String>,
        health_path: &str,
        log: Option<&Path>,
        mut next_port: impl FnMut() -> u16,
    ) -> Self {
        const PORTS: u32 = 5;
        for attempt in 1..=PORTS {
            let port = next_port();
            let mut cmd = command(binary, env);
            cmd.env("PORT", port.to_string());
            if let Some(log) = log {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap();
                cmd.stdout(file.try_clone().unwrap()).stderr(file);
            }
            let child = cmd.spawn().unwrap();
            let mut service = Service {
                child,
                base_url: format!("http://127.0.0.1:{port}"),
                http: reqwest::Client::new(),
            };
            match service.wait_ready(port, health_path).await {
                Ready::Yes => return service,
                Ready::PortTaken(how) if attempt < PORTS => {
                    eprintln!("{binary}: port {port} was taken ({how}); starting it on another");
                    // Stopped when dropped (SIGTERM, then SIGKILL: see `stop`).
                }
                Ready::PortTaken(how) => {
                    panic!(
                        "{binary}: {PORTS} ports taken by other processes, the last {port} ({how})"
                    )
                }
                Ready::Exited(status) => {
                    panic!("{binary} exited ({status}) before it answered on port {port}")
                }
                Ready::TimedOut => panic!("{binary} did not start listening on port {port}"),
            }
        }
        unreachable!("the last port's outcome returns or panics")
    }

    /// Waits (60 s at most) until this service's own process answers on `port`.
    async fn wait_ready(&mut self, port: u16, health_path: &str) -> Ready {
        let pid = self.child.id().expect("a process just spawned has an id");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return match sockets::owner(port, pid) {
                    sockets::Owner::Nobody => Ready::Exited(status.to_string()),
                    _ => Ready::PortTaken(format!("it exited ({status}), another listens there")),
                };
            }
            match sockets::owner(port, pid) {
                sockets::Owner::Another => {
                    return Ready::PortTaken("another process listens there".into());
                }
                sockets::Owner::Nobody => {}
                sockets::Owner::Only => {
                    let answered = self.http.get(self.url(health_path)).send().await.is_ok();
                    if answered
                        && self.child.try_wait().unwrap().is_none()
                        && sockets::owner(port, pid) == sockets::Owner::Only
                    {
                        return Ready::Yes;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ready::TimedOut
    }

    /// Waits up to `within` until `health_path` answers 200.
    pub async fn wait_healthy(&self, health_path: &str, within: Duration) {
        crate::eventually(within, &format!("{health_path} answers 200"), || {
            answers_ok(&self.http, self.url(health_path))
        })
        .await;
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
    /// not exit in time (it is then killed) or died by a signal, and the wait.
    pub async fn terminate_within(mut self, limit: Duration) -> (Option<i32>, Duration) {
        let pid = self.child.id().unwrap();
        let start = Instant::now();
        assert!(signal(pid, "TERM"), "kill -TERM {pid} failed");
        let code = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(exit) => exit.unwrap().code(),
            Err(_) => {
                let _ = self.child.kill().await;
                None
            }
        };
        (code, start.elapsed())
    }

    /// Sends SIGTERM and returns the exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().unwrap();
        assert!(signal(pid, "TERM"), "kill -TERM {pid} failed");
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("service did not stop within 20 s of SIGTERM")
            .unwrap()
            .code()
    }
}

/// How long a dropped [`Service`] gets to exit after SIGTERM before it is killed: a service
/// stops within 15 s of SIGTERM (requests, relay and pool each have their bound).
pub const STOP_PATIENCE: Duration = Duration::from_secs(15);

/// A test that ends (or fails) without [`Service::terminate`] stops its services here, as
/// an operator would, rather than with SIGKILL: a binary built for coverage writes its
/// profile only when it exits by itself. The fault suite's SIGKILLs are deliberate and stay
/// SIGKILLs ([`crate::ShopStack::kill`]); those processes contribute no profile.
impl Drop for Service {
    fn drop(&mut self) {
        stop(&mut self.child, STOP_PATIENCE);
    }
}

/// Stops `child`: SIGTERM, up to `patience` for it to exit, then SIGKILL; reaps it either
/// way. Nothing happens to a child that has already exited. Blocking (it runs in `Drop`):
/// on a multi-threaded runtime the wait is `block_in_place`, so the test's other tasks (a
/// proxy the child talks through) go on meanwhile.
pub fn stop(child: &mut Child, patience: Duration) {
    let Some(pid) = child.id() else { return };
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
            tokio::task::block_in_place(|| terminate_or_kill(child, pid, patience))
        }
        _ => terminate_or_kill(child, pid, patience),
    }
}

fn terminate_or_kill(child: &mut Child, pid: u32, patience: Duration) {
    let exited = |child: &mut Child, within: Duration| {
        let deadline = Instant::now() + within;
        loop {
            if !matches!(child.try_wait(), Ok(None)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    if signal(pid, "TERM") {
        if exited(child, patience) {
            return;
        }
        eprintln!("testkit: pid {pid} did not exit within {patience:?} of SIGTERM; killing it");
    }
    let _ = child.start_kill();
    exited(child, Duration::from_secs(5));
}

/// `kill -SIGNAL pid`; whether it was delivered.
fn signal(pid: u32, signal: &str) -> bool {
    std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use tokio::io::AsyncWriteExt;

    use super::*;

    /// A script that serves HTTP on `$PORT` of 127.0.0.1 (Python's `http.server`; the test
    /// scripts need python3 anyway).
    fn http_server_script() -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("{}.sh", crate::unique("testkit-serve")));
        std::fs::write(
            &path,
            "#!/bin/sh\nexec python3 -m http.server --bind 127.0.0.1 \"$PORT\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Somebody else's server on a port: this test process, answering 200 to anything.
    async fn squatter() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        port
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_port_someone_else_answers_on_is_not_taken_for_the_service() {
        let script = http_server_script();
        let taken = squatter().await;
        let mut ports = vec![free_port(), taken];
        let svc = Service::spawn_on(
            script.to_str().unwrap(),
            &HashMap::new(),
            "/",
            None,
            move || ports.pop().unwrap(),
        )
        .await;
        let port: u16 = svc.base_url.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, taken, "not the port another process answers on");
        let pid = svc.child.id().unwrap();
        assert_eq!(sockets::owner(port, pid), sockets::Owner::Only);
        drop(svc);
        std::fs::remove_file(script).unwrap();
    }

    #[tokio::test]
    async fn a_process_that_exits_on_its_own_fails_the_start() {
        let start =
            tokio::spawn(async { Service::spawn("/bin/false", &HashMap::new(), "/").await });
        let panic = start.await.err().unwrap().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("exited (exit status: 1)"), "{message}");
    }
}
