//! Secrets Manager for tests: `moto` in server mode (PyPI `moto[server]`, which
//! `scripts/test.sh` installs) on a free loopback port, stopped when dropped. Nothing here
//! can reach AWS: the endpoint is loopback and the credentials are made up.

use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use tokio::process::{Child, Command};

use crate::free_port;

/// The region the tests' secrets live in (the original's secret was in us-east-2).
pub const REGION: &str = "us-east-2";

/// A moto server of one test's own.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    client: Client,
}

impl Moto {
    /// Starts `moto_server` and waits until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start moto_server ({e}): pip install 'moto[server]' (scripts/test.sh does)")
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .build();
        let moto = Moto {
            child,
            endpoint,
            client: Client::from_conf(config),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.client.list_secrets().send().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        crate::sockets::assert_owned("moto_server", port, moto.child.id());
        moto
    }

    /// What a process needs to read secrets here: the endpoint, a region and made-up
    /// credentials (no instance metadata is ever asked).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        aws_env(&self.endpoint)
    }

    /// Creates secret `id` with `text`, or puts `text` as its new current version.
    pub async fn put(&self, id: &str, text: &str) {
        let created = self
            .client
            .create_secret()
            .name(id)
            .secret_string(text)
            .send()
            .await;
        if created.is_err() {
            self.client
                .put_secret_value()
                .secret_id(id)
                .secret_string(text)
                .send()
                .await
                .unwrap();
        }
    }

    /// Stops the server (it is also stopped when dropped).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The AWS variables of a process that reads secrets at `endpoint` with made-up credentials.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}
