#!/usr/bin/env bash
# The soak (issue 26): the mixed workload (goose, crates/loadgen) against a release stack
# of the four processes for SOAK_MINUTES (default 20), with a fault every few minutes (a
# consumer SIGKILLed and started again, the broker node stopped and booted, the database
# paused with SIGSTOP), sampling every process's memory, descriptors, threads and pool
# connections, the tables that purges keep bounded, the queues and the disk. Prints a table
# and a verdict, and exits 1 on a resource that grows after the warm-up, a like or product
# lost or doubled, or a purge that did not run. All of it runs on a MariaDB and a RabbitMQ
# node of the soak's own (other ports, data under /tmp), never the machine's; loopback
# only, bounded in time, cleaned up at the end. `xtask soak` (crates/xtask/src/soak/) does
# the work; docs/operating/soak.md says what it measures and shows a 20-minute run.
#
#   scripts/soak.sh                       20 minutes against a release build
#   SOAK_MINUTES=3 scripts/soak.sh        the CI version (faults compressed)
#   SOAK_PROFILE=debug scripts/soak.sh    the debug binaries (what scripts/test.sh built)
#   SHOP_BIN_DIR=DIR scripts/soak.sh      the four services and loadgen from DIR, no build
# Optional: SOAK_RATE (requests a second, default 150), SOAK_USERS (goose users, 20).
# Its files (logs, goose's report, tally, samples.csv, table.md) are in .run/soak/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

export SOAK_MINUTES=${SOAK_MINUTES:-20}
profile=${SOAK_PROFILE:-release}
command -v mariadbd >/dev/null 2>&1 || ensure_mariadb
command -v rabbitmq-server >/dev/null 2>&1 || ensure_rabbitmq

target=${CARGO_TARGET_DIR:-target}
if [ -z "${SHOP_BIN_DIR:-}" ]; then
  if [ "$profile" = release ]; then
    log "building the release binaries (services and loadgen)"
    cargo build --release --locked --bins -p admin-svc -p main-svc -p loadgen
    SHOP_BIN_DIR=$target/release
  else
    SHOP_BIN_DIR=$target/debug
  fi
fi
if [ "$profile" = debug ]; then
  log "building the debug binaries (a no-op after scripts/test.sh's rust part)"
  cargo build --locked --workspace --bins
fi
SHOP_BIN_DIR=$(cd "$SHOP_BIN_DIR" && pwd)
export SHOP_BIN_DIR
export SOAK_LOADGEN=${SOAK_LOADGEN:-$SHOP_BIN_DIR/loadgen}
# The driver itself is the debug build of xtask (it only samples and compares), built with
# the whole workspace so that cargo reuses what scripts/test.sh built.
[ "$profile" = debug ] || cargo build --locked --workspace --bins
log "soak: $SOAK_MINUTES minutes, binaries from $SHOP_BIN_DIR"
exec "$target/debug/xtask" soak
