#!/usr/bin/env bash
# The fault suite: broker restart, consumers SIGKILLed, consumers' broker links cut, database
# outage, redelivery of every message, poison messages, clients hanging up mid-request, each
# under a bounded stream of real writes and likes. Prints a
# line per scenario (sent, applied, lost, duplicated, redelivered, time to converge).
# Runs against its own RabbitMQ node and TCP proxies; needs MariaDB and RabbitMQ installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_services
export_service_urls

cargo build --workspace --bins --locked
# One scenario at a time: each runs four processes and its own load on two cores.
cargo test --locked -p system-tests --test faults -- --ignored --nocapture --test-threads=1 "$@"
