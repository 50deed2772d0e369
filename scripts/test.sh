#!/usr/bin/env bash
# Runs every check and test: a secret scan, formatting and lints (Rust, TypeScript), unit, router and
# end-to-end tests, the frontend's component tests and production build, browser tests
# through nginx in Chromium, the monitoring checks (promtool, dashboards, a live Prometheus),
# and the fault suite, against real MariaDB and RabbitMQ (started here if they are not
# running; nginx, Chromium, prometheus and mysqld_exporter installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

# Each part's time, printed when the script ends (whether it passed or not).
time_steps

step "services: MariaDB and RabbitMQ; moto and openssl for the credential and TLS tests"
ensure_services
ensure_test_tools
# The hostile-input suite (cargo test) puts nginx in front of the APIs.
ensure_nginx

# sqlx::test creates one fresh database per test on this server.
export_service_urls
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

step "secret scan (detect-secrets over every tracked file)"
bash scripts/secret-scan.sh
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo build (every binary: the system tests spawn them)"
cargo build --workspace --bins --locked
step "cargo test"
cargo test --workspace --locked

step "frontend: npm ci"
ensure_node_modules
step "frontend: typecheck, lint, component tests, production build"
(cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test && npm run --silent build)
step "browser end-to-end tests through nginx"
BUILD_FRONTEND=0 bash scripts/e2e-browser.sh

step "monitoring: promtool, dashboards, live Prometheus against the stack"
SKIP_BUILD=1 bash scripts/monitoring.sh

step "fault suite"
bash scripts/faults.sh
