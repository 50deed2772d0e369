#!/usr/bin/env bash
# The hang-up check (docs/architecture.md, "Delivery guarantees"): release build of the
# four processes on their own databases and queues; ten `wrk -c128 -d3s` like bursts, then
# 10,000 writes whose clients hang up, each followed by a check that no pool connection
# stays checked out, no transaction stays open on an idle connection, the outboxes drain,
# the mirror converges, every read is fresh and every write whole; then SIGTERM. Loopback
# only, about two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_services
command -v wrk >/dev/null 2>&1 || apt_install wrk
export_service_urls
# wrk sends every like from one address: no like limits here.
export LIKES_PER_MINUTE_PER_ADDRESS=0 LIKES_PER_MINUTE_PER_SHOPPER=0

cargo build --release --locked --bins -p admin-svc -p main-svc --example hangups -p system-tests
target/release/examples/hangups
