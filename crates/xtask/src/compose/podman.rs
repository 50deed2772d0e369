//! podman and podman-compose, each command bounded in time.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// The compose project the proof brings up.
pub const PROJECT: &str = "shopproof";

/// Runs `program args` with `env` under `timeout --kill-after=10 LIMIT` (as the scripts
/// bound every command that could wait on something), podman's settings from
/// `deploy/proof/containers.conf`; its output, whatever its status.
pub async fn run(limit: u64, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    Command::new("timeout")
        .arg("--kill-after=10")
        .arg(limit.to_string())
        .arg(program)
        .args(args)
        .env("CONTAINERS_CONF", containers_conf())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {program}"))
}

fn containers_conf() -> PathBuf {
    std::env::current_dir()
        .unwrap_or_default()
        .join("deploy/proof/containers.conf")
}

/// Standard output then standard error, as text.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `podman ARGS`, which must succeed within `limit` seconds: its standard output.
pub async fn podman(limit: u64, args: &[&str]) -> Result<String> {
    let out = run(limit, "podman", args, &[]).await?;
    if !out.status.success() {
        bail!(
            "podman {} failed: {}",
            args.first().copied().unwrap_or_default(),
            tail(&printed(&out), 5)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The names of the project's containers (stopped ones too), of one compose service when
/// `service` is given.
async fn project_containers(service: Option<&str>) -> Result<Vec<String>> {
    let project = format!("label=io.podman.compose.project={PROJECT}");
    let mut args = vec!["ps", "-a", "--filter", project.as_str()];
    let of_service = service.map(|s| format!("label=com.docker.compose.service={s}"));
    if let Some(filter) = &of_service {
        args.extend(["--filter", filter.as_str()]);
    }
    args.extend(["--format", "{{.Names}}"]);
    let names = podman(30, &args).await?;
    Ok(names
        .lines()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The container of a compose service of the project, `None` when there is none.
pub async fn container_of(service: &str) -> Option<String> {
    project_containers(Some(service))
        .await
        .ok()?
        .into_iter()
        .next()
}

/// The container of a compose service of the project, which must exist.
pub async fn container(service: &str) -> Result<String> {
    container_of(service)
        .await
        .with_context(|| format!("no container for {service}"))
}

/// Every container of the project.
pub async fn containers() -> Result<Vec<String>> {
    project_containers(None).await
}

/// `podman inspect --format FORMAT` of a service's container.
pub async fn inspect(service: &str, format: &str) -> Result<String> {
    let c = container(service).await?;
    Ok(podman(30, &["inspect", "--format", format, &c])
        .await?
        .trim()
        .to_owned())
}

/// A container's last `n` log lines (standard output and error interleaved), each cut to
/// `width` characters.
pub async fn logs(container: &str, n: usize, width: usize) -> String {
    let out = run(
        30,
        "sh",
        &[
            "-c",
            r#"exec podman logs --tail "$1" "$2" 2>&1"#,
            "sh",
            &n.to_string(),
            container,
        ],
        &[],
    )
    .await;
    let text = out.map(|o| printed(&o)).unwrap_or_default();
    text.lines()
        .map(|l| l.chars().take(width).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// podman-compose on the project: `-p PROJECT --env-file ENV -f docker-compose.yml -f
/// OVERRIDE` before each command.
pub struct Compose {
    pub program: String,
    pub env_file: String,
    pub override_file: String,
}

impl Compose {
    /// `podman-compose … ARGS`, its output written to `log` (appended when `append`);
    /// fails with the log's last lines.
    pub async fn run(&self, limit: u64, args: &[&str], log: &str, append: bool) -> Result<()> {
        let mut all = vec![
            "-p",
            PROJECT,
            "--env-file",
            &self.env_file,
            "-f",
            "docker-compose.yml",
            "-f",
            &self.override_file,
        ];
        all.extend_from_slice(args);
        let out = run(limit, &self.program, &all, &[]).await?;
        let text = printed(&out);
        if append {
            let before = std::fs::read_to_string(log).unwrap_or_default();
            std::fs::write(log, before + &text)?;
        } else {
            std::fs::write(log, &text)?;
        }
        if !out.status.success() {
            bail!(
                "podman-compose {} failed:\n{}",
                args.first().copied().unwrap_or_default(),
                tail(&text, 20)
            );
        }
        Ok(())
    }
}
