//! The proof's env file and override file, and `podman-compose config` with them.

use anyhow::{Result, bail};

use super::Proof;
use super::podman::{self, run};
use crate::report::log;

/// The env file (.env.example's variables, each placeholder a new random password, and the
/// proof's ports and images), the override file, and `podman-compose config` with and
/// without a variable.
pub async fn config(proof: &Proof) -> Result<()> {
    proof.step("podman-compose config (and a missing variable named)");
    let o = &proof.options;
    let mut env = String::new();
    for line in std::fs::read_to_string(".env.example")?.lines() {
        let Some((var, value)) = line.split_once('=') else {
            continue;
        };
        if var.is_empty() || !var.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            continue;
        }
        let value = if value.starts_with("change-me") {
            random_password()?
        } else {
            value.to_owned()
        };
        env.push_str(&format!("{var}={value}\n"));
    }
    env.push_str(&format!(
        "SHOP_IMAGE_PREFIX=localhost/shop\nSHOP_TAG=proof\nSHOP_PUBLISH_ADDRESS=127.0.0.1\n\
         WEB_PORT={}\nPROMETHEUS_PORT={}\nALERTMANAGER_PORT={}\nGRAFANA_PORT={}\n\
         JAEGER_UI_PORT={}\nSHOP_ENVIRONMENT=compose-proof\n",
        o.web_port, o.prometheus_port, o.alertmanager_port, o.grafana_port, o.jaeger_port
    ));
    write_private(&proof.compose.env_file, &env)?;
    // Images the proof substitutes; nothing else differs from docker-compose.yml.
    std::fs::write(
        &proof.compose.override_file,
        "services:\n  \
           mariadb:\n    image: localhost/shop-proof/mariadb:latest\n  \
           rabbitmq:\n    image: localhost/shop-proof/rabbitmq:latest\n  \
           prometheus:\n    image: localhost/shop-proof/prometheus:latest\n  \
           alertmanager:\n    image: localhost/shop-proof/alertmanager:latest\n  \
           mysqld-exporter:\n    image: localhost/shop-proof/mysqld-exporter:latest\n  \
           jaeger:\n    image: localhost/shop-proof/otlp-sink:latest\n",
    )?;

    let pc = &proof.compose.program;
    let out = run(
        60,
        pc,
        &[
            "--env-file",
            &proof.compose.env_file,
            "-f",
            "docker-compose.yml",
            "config",
        ],
        &[],
    )
    .await?;
    std::fs::write(Proof::path("config.yml"), &out.stdout)?;
    std::fs::write(Proof::path("config.err"), &out.stderr)?;
    if !out.status.success() {
        bail!(
            "podman-compose config failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let missing = Proof::path("missing.env");
    let without: String = env
        .lines()
        .filter(|l| !l.starts_with("RABBITMQ_PASSWORD="))
        .map(|l| format!("{l}\n"))
        .collect();
    write_private(&missing, &without)?;
    let out = run(
        60,
        pc,
        &["--env-file", &missing, "-f", "docker-compose.yml", "config"],
        &[],
    )
    .await?;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::write(Proof::path("missing.err"), &err)?;
    if out.status.success() {
        bail!("podman-compose config passed without RABBITMQ_PASSWORD");
    }
    if !err.contains("RABBITMQ_PASSWORD is missing a value: set RABBITMQ_PASSWORD in .env") {
        bail!(
            "the error does not name RABBITMQ_PASSWORD: {}",
            podman::tail(&err, 3)
        );
    }
    let said = err
        .lines()
        .find_map(|l| l.find("required variable").map(|at| &l[at..]))
        .unwrap_or_default();
    log(format!("config passes; without RABBITMQ_PASSWORD: {said}"));
    Ok(())
}

/// A file only its owner reads: the env files hold the stack's passwords.
fn write_private(path: &str, text: &str) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    std::io::Write::write_all(&mut &file, text.as_bytes())?;
    Ok(())
}

/// 20 random letters and digits (about 119 bits): a password that goes into URLs as it is.
pub fn random_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 64];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    // Bytes below 248 (4 × 62) map evenly onto the alphabet; the rest are skipped.
    let password: String = bytes
        .iter()
        .filter(|b| **b < 248)
        .take(20)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    if password.len() < 20 {
        bail!("/dev/urandom gave too few usable bytes");
    }
    Ok(password)
}
