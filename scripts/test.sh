#!/usr/bin/env bash
# Runs every check and test: a secret scan, formatting and lints (shell, Rust, TypeScript, the
# Jenkinsfile), unit, router and end-to-end tests, the frontend's component tests and
# production build, browser tests through nginx in Chromium, the monitoring checks
# (promtool, dashboards, a live Prometheus), the fault suite, and the compose proof (the
# whole docker-compose.yml brought up under podman), against real MariaDB and RabbitMQ
# (started here if they are not running; nginx, Chromium, prometheus, mysqld_exporter,
# podman, shellcheck and the Jenkinsfile linter installed if missing).
#
#   scripts/test.sh              everything (what .ci/run runs)
#   scripts/test.sh PART…        only these parts, in this order: lint, rust, frontend,
#                                browser, monitoring, faults, compose (the Jenkinsfile's
#                                stages; browser needs rust's binaries and frontend's build;
#                                compose builds the binaries itself, a no-op after rust)
# JUNIT_DIR=DIR: the frontend's and the browser tests' JUnit reports go there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

all_parts=(lint rust frontend browser monitoring faults compose)
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=("${all_parts[@]}")
for part in "${parts[@]}"; do
  [[ " ${all_parts[*]} " == *" $part "* ]] || { log "unknown part $part (known: ${all_parts[*]})"; exit 2; }
done
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }
if [ -n "${JUNIT_DIR:-}" ]; then
  mkdir -p "$JUNIT_DIR"
  JUNIT_DIR=$(cd "$JUNIT_DIR" && pwd)
  export JUNIT_DIR
fi

# Each part's time, printed when the script ends (whether it passed or not).
# shellcheck disable=SC2119 # no prefix: the parts' names are enough here
time_steps

step "services: MariaDB and RabbitMQ; moto and openssl for the credential and TLS tests"
ensure_services
ensure_test_tools
# The hostile-input suite (cargo test) puts nginx in front of the APIs.
ensure_nginx

# sqlx::test creates one fresh database per test on this server.
export_service_urls
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

if want lint; then
  step "secret scan (detect-secrets over every tracked file)"
  bash scripts/secret-scan.sh
  step "source files: none over 400 lines, tests aside"
  bash scripts/file-sizes.sh
  step "shellcheck (every shell script: scripts/*.sh, deploy/**/*.sh, .ci/run)"
  command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
  mapfile -t shell_scripts < <({ find scripts -maxdepth 1 -name '*.sh'; find deploy -name '*.sh'; } | sort)
  # -x: follow what each script sources (paths from the repository's root).
  shellcheck -x "${shell_scripts[@]}" .ci/run
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  step "Jenkinsfile lint (npm-groovy-lint)"
  bash scripts/lint-jenkinsfile.sh
  step "Kubernetes manifests: both overlays rendered and validated"
  bash scripts/k8s-validate.sh
fi

if want rust; then
  step "cargo build (every binary: the system tests spawn them)"
  cargo build --workspace --bins --locked
  step "cargo test"
  cargo test --workspace --locked
fi

if want frontend; then
  step "frontend: npm ci"
  ensure_node_modules frontend
  step "frontend: typecheck, lint, component tests, production build"
  (cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test && npm run --silent build)
fi

if want browser; then
  step "browser end-to-end tests through nginx"
  BUILD_FRONTEND=0 bash scripts/e2e-browser.sh
fi

if want monitoring; then
  step "monitoring: promtool, dashboards, live Prometheus against the stack"
  SKIP_BUILD=1 bash scripts/monitoring.sh
fi

if want faults; then
  step "fault suite"
  bash scripts/faults.sh
fi

if want compose; then
  step "compose proof: docker-compose.yml up under podman (the workspace's binaries, packaged)"
  bash scripts/compose-proof.sh
fi
