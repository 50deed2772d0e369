#!/usr/bin/env bash
# Runs every check and test: formatting and lints (Rust, TypeScript), unit, router and
# end-to-end tests, the frontend's component tests and production build, browser tests
# through nginx in Chromium, and the fault suite, against real MariaDB and RabbitMQ
# (started here if they are not running; nginx and Chromium installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

ensure_services

# sqlx::test creates one fresh database per test on this server.
export_service_urls
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo build (every binary: the system tests spawn them)"
cargo build --workspace --bins --locked
log "cargo test"
cargo test --workspace --locked

ensure_node_modules
log "frontend: typecheck, lint, component tests, production build"
(cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test && npm run --silent build)
log "browser end-to-end tests through nginx"
BUILD_FRONTEND=0 bash scripts/e2e-browser.sh

log "fault suite"
bash scripts/faults.sh
