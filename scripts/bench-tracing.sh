#!/usr/bin/env bash
# What tracing costs (release build, this machine, loopback only, bounded in time): the shop
# list and likes by new shoppers with wrk, three times over: spans exported to an OTLP
# receiver at 100 % sampling, to a collector that refuses (every span dropped and counted),
# spans made but not exported (no endpoint, the default), and tracing off
# (OTEL_SDK_DISABLED=true). Prints one line per run; docs/operating/observability.md keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/stack.sh

ensure_services
ensure_nginx
command -v wrk >/dev/null 2>&1 || apt_install wrk
export_service_urls
# wrk sends every like from one address: no like limits here.
export LIKES_PER_MINUTE_PER_ADDRESS=0 LIKES_PER_MINUTE_PER_SHOPPER=0
cargo build --release --locked --bins -p admin-svc -p main-svc -p xtask
unset DATABASE_URL
export RELEASE=1 BUILD_FRONTEND=0 RUST_LOG=warn
[ -f frontend/dist/index.html ] || build_frontend

sink_port=18399
mkdir -p .run
target/release/otlp-sink --otlp "127.0.0.1:$sink_port" > .run/otlp-sink.log 2>&1 &
sink_pid=$!
on_exit "kill $sink_pid 2>/dev/null || true"

run() { # label, then VAR=value... for the four processes
  local label=$1; shift
  (
    # shellcheck disable=SC2163 # the arguments are NAME=value assignments to export
    export "$@"
    start_isolated_stack tracebench 18400
    for i in $(seq 1 50); do
      curl -fsS -o /dev/null -XPOST "http://127.0.0.1:$ADMIN_PORT/api/products" \
    -H "Authorization: Bearer $ADMIN_TOKEN" \
        -H 'Content-Type: application/json' -d "{\"title\": \"Product $i\", \"image\": \"/img/$i.png\"}"
    done
    sleep 1
    for what in list like; do
      local out
      if [ "$what" = list ]; then
        out=$(wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$MAIN_PORT/flask/api/products")
      else
        out=$(PRODUCTS=50 wrk -t2 -c64 -d10s --latency -s scripts/like.lua "http://127.0.0.1:$MAIN_PORT")
      fi
      printf '%-34s %-5s %9s req/s   p50 %8s   p99 %8s\n' "$label" "$what" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$out")"
    done
  )
}

log "wrk, 10 s each, 2 threads, 64 connections, 50 products"
run "exported (OTLP, 100 % sampled)" OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$sink_port OTEL_TRACES_SAMPLER=always_on
log "spans the receiver took: $(tail -1 .run/otlp-sink.log)"
run "collector refusing (spans dropped)" OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1 OTEL_TRACES_SAMPLER=always_on
run "made, not exported (default)" OTEL_SDK_DISABLED=false
run "off (OTEL_SDK_DISABLED=true)" OTEL_SDK_DISABLED=true
