#!/usr/bin/env bash
# Benchmarks on this machine, release build, local MariaDB and RabbitMQ (bounded in time,
# loopback only):
#   1. propagation: how long an admin's change takes to reach the shop, and a like the
#      catalogue, through the real processes and broker;
#   2. throughput with wrk: the catalogue list, the shop list, and likes by distinct shoppers.
# Prints the figures; the README keeps the latest ones.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/stack.sh

ensure_services
ensure_nginx
command -v wrk >/dev/null 2>&1 || apt_install wrk
export_service_urls
export RUST_LOG=${RUST_LOG:-warn}

cargo build --release --locked --bins -p admin-svc -p main-svc --example propagation -p system-tests
log "propagation (50 rounds)"
target/release/examples/propagation

log "throughput (wrk, 10 s each, 2 threads, 64 connections)"
unset DATABASE_URL
export RELEASE=1
start_isolated_stack bench 18200

# A catalogue of 50 products, as the original's benchmark had.
for i in $(seq 1 50); do
  curl -fsS -o /dev/null -XPOST "http://127.0.0.1:$ADMIN_PORT/api/products" \
    -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"title\": \"Product $i\", \"image\": \"/img/$i.png\"}"
done
sleep 1

bench() { # name url [lua]
  local out
  out=$(wrk -t2 -c64 -d10s --latency ${3:+-s "$3"} "$2")
  printf '%-36s %s req/s   p50 %s   p99 %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}
bench "GET /api/products (50 products)" "http://127.0.0.1:$ADMIN_PORT/api/products"
bench "GET /flask/api/products" "http://127.0.0.1:$MAIN_PORT/flask/api/products"
PRODUCTS=50 bench "POST like (a new shopper each)" "http://127.0.0.1:$MAIN_PORT" scripts/like.lua
