#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit, router, end-to-end tests and the fault
# suite, against real MariaDB and RabbitMQ (started here if they are not running).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_services

# sqlx::test creates one fresh database per test on this server.
export DATABASE_URL=${DATABASE_URL:-mysql://root@${MARIADB_HOST}:${MARIADB_PORT}/mysql}
export AMQP_URL=${AMQP_URL:-amqp://guest:guest@${RABBITMQ_HOST}:${RABBITMQ_PORT}/%2f}
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo build (every binary: the end-to-end tests spawn them)"
cargo build --workspace --bins --locked
log "cargo test"
cargo test --workspace --locked
log "fault suite"
bash scripts/faults.sh
