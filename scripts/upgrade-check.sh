#!/usr/bin/env bash
# The upgrade check (docs/operating/upgrades.md), what the Jenkinsfile runs before a deploy:
#   1. the migration lint (scripts/migration-lint.sh): nothing newer than the previous
#      release breaks its queries unless marked as a contract step;
#   2. the previous release's binaries (scripts/previous-release.sh: built once per commit,
#      then cached in PREVIOUS_CACHE_DIR, by default ~/.cache/shop/previous/<sha>/);
#   3. the current tree's release binaries (cargo build --release; SHOP_BIN_DIR=DIR takes
#      them from DIR instead, built already);
#   4. the mixed-version test (crates/system-tests/tests/upgrades.rs) with both, against the
#      local MariaDB and RabbitMQ (started if they are not running).
#   5. the trace test on the release binaries (crates/system-tests/tests/traces_release.rs:
#      50 creates and 50 likes, each one complete trace at a real OTLP receiver), as operators
#      run them; the test command runs it on the debug binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
# shellcheck disable=SC2119 # no prefix
time_steps

step "migrations: expand, then contract"
bash scripts/migration-lint.sh

step "the previous release's binaries"
PREVIOUS_BIN_DIR=$(scripts/previous-release.sh)
export PREVIOUS_BIN_DIR

if [ -z "${SHOP_BIN_DIR:-}" ]; then
  step "the current release's binaries"
  cargo build --release --workspace --bins --locked
  SHOP_BIN_DIR="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release"
fi
export SHOP_BIN_DIR

step "services: MariaDB and RabbitMQ"
ensure_services
export_service_urls

step "mixed versions: $(cat "$PREVIOUS_BIN_DIR/release.txt") beside this tree ($SHOP_BIN_DIR)"
cargo test --locked -p system-tests --test upgrades -- --nocapture

step "traces on the release binaries ($SHOP_BIN_DIR)"
cargo test --locked -p system-tests --test traces_release -- --nocapture
