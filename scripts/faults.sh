#!/usr/bin/env bash
# The fault suite: broker restart, consumers SIGKILLed, consumers' broker links cut, database
# outage, redelivery of every message, poison messages, clients hanging up mid-request, and on
# a three-node RabbitMQ cluster of its own a node SIGKILLed, a node partitioned, and two
# replicas of every process with one API and one consumer replica SIGKILLed; each under a
# bounded stream of real writes and likes. Prints a line per scenario (sent, applied, lost,
# duplicated, published twice, redelivered, time to converge).
# Runs against its own RabbitMQ nodes and TCP proxies; needs MariaDB and RabbitMQ installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_services
export_service_urls

cargo build --workspace --bins --locked
# One scenario at a time: each runs four processes and its own load on two cores.
cargo test --locked -p system-tests --test faults -- --ignored --nocapture --test-threads=1 "$@"
