#!/usr/bin/env bash
# Runs every check and test: a secret scan, formatting and lints (shell, Rust, TypeScript, the
# Jenkinsfile), unit, router and end-to-end tests, the frontend's component tests and
# production build, browser tests through nginx in Chromium, schemathesis against both
# APIs' OpenAPI documents (directly and through nginx), the monitoring checks
# (promtool, dashboards, a live Prometheus), the fault suite, and the compose proof (the
# whole docker-compose.yml brought up under podman), against real MariaDB and RabbitMQ
# (started here if they are not running; nginx, Chromium, schemathesis, prometheus,
# mysqld_exporter, podman, shellcheck and the Jenkinsfile linter installed if missing), then
# the Rust crates' line coverage (scripts/coverage.sh; the frontend's is part of its tests).
#
#   scripts/test.sh              everything (what .ci/run runs)
#   scripts/test.sh PART…        only these parts, in this order: lint, rust, frontend,
#                                browser, openapi, monitoring, faults, compose, coverage
#                                (the Jenkinsfile's stages; browser needs rust's binaries
#                                and frontend's build, openapi the binaries; compose builds
#                                the binaries itself, a no-op after rust; coverage needs the
#                                profiles of the parts before it)
# JUNIT_DIR=DIR: the frontend's, the browser tests' and schemathesis's JUnit reports go there.
#
# Coverage is measured in this one run: from the rust part on, cargo builds instrumented
# binaries into target/llvm-cov-target (the workspace's crates only; scripts/coverage.sh),
# and every later part runs those same binaries: the browser tests', the OpenAPI checks',
# monitoring's and the fault suite's processes add their profiles to the rust part's, and
# the compose proof packages them (in its containers they have nowhere to write a profile,
# and say so in one line as they exit). A second, plain build for those parts would cost a
# build of every dependency again. COVERAGE=0: a plain build in target/, no coverage part.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/coverage.sh

all_parts=(lint rust frontend browser openapi monitoring faults compose coverage)
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

# Coverage (scripts/coverage.sh): everything cargo makes goes to target/llvm-cov-target,
# clippy's check included, so that the build scripts and proc macros it compiles serve the
# instrumented build too.
coverage=${COVERAGE:-1}
if [ "$coverage" = 1 ]; then
  step "coverage tools: llvm-tools, cargo-llvm-cov, jq"
  ensure_coverage_tools
  coverage_target_dir
fi

if want lint; then
  step "secret scan (detect-secrets over every tracked file)"
  bash scripts/secret-scan.sh
  step "source files: none over 400 lines, tests aside"
  bash scripts/file-sizes.sh
  step "migrations: expand, then contract (none newer than the previous release breaks it)"
  bash scripts/migration-lint.sh
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

# The previous release's binaries, for the mixed-version test of cargo test
# (scripts/previous-release.sh: a release build in a worktree of this repository, cached
# outside the checkout in ~/.cache/shop/previous/<sha>/, so it is built once per machine and
# release). Plain, before coverage_env.
if want rust; then
  step "the previous release's binaries (scripts/previous-release.sh; cached per machine)"
  PREVIOUS_BIN_DIR=$(env -u CARGO_TARGET_DIR bash scripts/previous-release.sh)
  export PREVIOUS_BIN_DIR
fi

# After the lints (clippy stays a plain check): from here on cargo builds instrumented.
if [ "$coverage" = 1 ]; then coverage_env; fi

if want rust; then
  if [ "$coverage" = 1 ]; then
    step "cargo build, instrumented (every binary: the system tests spawn them)"
    coverage_clean
  else
    step "cargo build (every binary: the system tests spawn them)"
  fi
  cargo build --workspace --bins --locked
  step "cargo test (the mixed-version test with the previous release's binaries)"
  cargo test --workspace --locked --no-fail-fast
fi

if want frontend; then
  step "frontend: npm ci"
  ensure_node_modules frontend
  step "frontend: typecheck, lint, component tests with coverage, production build"
  (cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test:coverage && npm run --silent build)
fi

if want browser; then
  step "browser end-to-end tests through nginx"
  BUILD_FRONTEND=0 bash scripts/e2e-browser.sh
fi

if want openapi; then
  step "OpenAPI documents: schemathesis against both APIs, directly and through nginx"
  bash scripts/schemathesis.sh
fi

if want monitoring; then
  step "monitoring: promtool, dashboards, live Prometheus against the stack"
  SKIP_BUILD=1 bash scripts/monitoring.sh
fi

if want faults; then
  step "fault suite"
  bash scripts/faults.sh
  step "soak, 3 minutes (docs/operating/soak.md; the debug binaries above)"
  SOAK_MINUTES=3 SOAK_PROFILE=debug bash scripts/soak.sh
fi

if want compose; then
  step "compose proof: docker-compose.yml up under podman (the workspace's binaries, packaged)"
  bash scripts/compose-proof.sh
fi

if want coverage; then
  if [ "$coverage" = 1 ]; then
    step "coverage: line coverage per crate (the profiles of every part above)"
    coverage_report
  else
    log "COVERAGE=0: no coverage measured"
  fi
fi
