#!/usr/bin/env bash
# The benchmark of issue 14's targets, against a release stack of the four processes and
# nginx that it starts on its own databases and queues (scripts/stack.sh), with the
# machine's ceilings measured in the same run. Loopback only, bounded in time (about 6 to
# 8 minutes after the build), stops by itself and cleans up (processes, databases, queues)
# even when interrupted. Prints one markdown table: each figure, its target, the ceiling it
# is compared with, the ratio, met or missed; then the mixed workload's per-request table.
# This script measures; `xtask bench-verdict` (crates/xtask) reads what it measured, judges
# each figure against its target and prints the table. The measurements stay in .run/bench/
# (`target/release/xtask bench-verdict .run/bench` prints the table again).
#
#   scripts/bench.sh                  # everything
#   BENCH_SECONDS=10 scripts/bench.sh # longer wrk runs (default 5 s each)
#
# Rows (docs/performance.md says what each measures):
#   ceilings    the shop list's body from memory by a minimal axum server; the same bytes
#               as a file from nginx (same nginx frame as the shop's); MariaDB's single-row
#               commit rate (16 connections, autocommit INSERTs)
#   lists       GET /flask/api/products and /api/products, 100 products, wrk -t2 -c32,
#               straight to the APIs and through nginx
#   likes       a new shopper each over 100 products, then all on one product (the viral
#               case), with scripts' own load client (examples/http_load.rs: every request
#               awaited, so the 200s can be compared with the counts: exact or not); then
#               the spread case at 1, 8, 32 and 128 connections with main-api's mean batch
#               size (like_batch_size), latency against batch size
#   backlog     100,000 like events published to a queue nobody consumes, then one
#               admin-consumer started on it: events/s until all are applied, each
#               product's count checked
#   propagation an admin's create until the shop lists it, idle and under the list load
#   overload    2,000 connections liking one product plus 200 reading the list, 10 s:
#               answers by status, p99, no 500, exact count, recovery, pools idle
#   mixed       goose (crates/loadgen): browsers, returning and new shoppers, an admin
#   100k        100,000 more products inserted straight into both databases: full lists
#               and a page (?limit=100&after=50000)
#   memory      VmRSS and VmHWM of the four processes at the very end, summed
#   live        live like counts (examples/sse_fanout.rs): 1,000 streams held by main-api,
#               then 100 through nginx; memory and open files per stream, a like's time to
#               the first, the median and the last stream's event, main-api's CPU per update
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/stack.sh

# Ctrl-C, kill or a closed terminal end the script through its exit hooks (bash runs no EXIT
# trap when a signal without a trap kills it): the stack, its databases and queues, the
# backlog queue and the extra processes go too.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

BENCH_SECONDS=${BENCH_SECONDS:-5}
began=$SECONDS
ensure_services
ensure_nginx
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v jq >/dev/null 2>&1 || apt_install jq
export_service_urls
# Every load generator sends from one address: no like limits here.
export LIKES_PER_MINUTE_PER_ADDRESS=0 LIKES_PER_MINUTE_PER_SHOPPER=0
export RUST_LOG=${RUST_LOG:-warn}
# 2,200 connections at once in the overload row, on both ends (the stack inherits this).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log "building (release)"
cargo build --release --locked --bins -p admin-svc -p main-svc -p loadgen -p xtask \
  -p system-tests --example ceiling_http --example db_commit_rate --example http_load \
  --example backlog --example create_to_listed --example sse_fanout
ex=target/release/examples
build_s=$((SECONDS - began))

work=$(mktemp -d /tmp/shop-bench.XXXXXX)
# nginx's workers (another user when it runs as root) read the static ceiling's file here.
chmod 755 "$work"
on_exit "rm -rf '$work'"
# Processes this script starts besides the stack, stopped at exit by their pids.
extra_pids=()
stop_extras() {
  local pid
  for pid in ${extra_pids[@]+"${extra_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in ${extra_pids[@]+"${extra_pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
}
on_exit stop_extras
# stop_pid PID: stops one of them now.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${extra_pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  extra_pids=(${kept[@]+"${kept[@]}"})
}

# ---------------------------------------------------------------------------- helpers

source scripts/bench-lib.sh
source scripts/seed-catalogue.sh

# What this run measured, one `key=value` a line (a value on one line), for xtask
# bench-verdict; goose's report beside it, as goose.txt.
measurements=.run/bench
rm -rf "$measurements"
mkdir -p "$measurements"
# measure KEY VALUE: records one measurement.
measure() { printf '%s=%s\n' "$1" "${2//$'\n'/ }" >> "$measurements/measurements"; }
# measure_wrk KEY: records the last wrk_run (its W_RPS, W_P50, W_P99 and W_BAD).
measure_wrk() { measure "$1" "rps=$W_RPS p50_ms=$W_P50 p99_ms=$W_P99 bad=$W_BAD"; }
measure bench_seconds "$BENCH_SECONDS"

# likes_of URL ID: the like count of product ID in the list at URL (empty if not listed).
likes_of() { curl -fsS "$1" | jq -r --argjson id "$2" '.[] | select(.id == $id) | .likes'; }
# wait_likes URL ID EXPECTED SECONDS: polls until product ID shows EXPECTED likes; prints
# the count last seen and returns 1 if it never matched.
wait_likes() {
  local url=$1 id=$2 want=$3 deadline=$((SECONDS + $4)) got
  while :; do
    got=$(likes_of "$url" "$id" || true)
    [ "$got" = "$want" ] && { echo "$got"; return 0; }
    [ "$SECONDS" -ge "$deadline" ] && { echo "$got"; return 1; }
    sleep 0.2
  done
}

# memory_at PHASE: records VmRSS and VmHWM (kB) of the four processes now, as
# memory.PHASE.PROCESS (xtask bench-verdict prints them as a table of process × phase).
memory_at() {
  local p pid
  for p in "admin-api:$ADMIN_PORT" "admin-consumer:$ADMIN_CONSUMER_PORT" "main-api:$MAIN_PORT" "main-consumer:$MAIN_CONSUMER_PORT"; do
    pid=$(ss -ltnpH "sport = :${p#*:}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    measure "memory.$1.${p%%:*}" "$(awk '/^VmRSS/ {r = $2} /^VmHWM/ {h = $2} END {printf "rss_kb=%s hwm_kb=%s", r, h}' "/proc/$pid/status")"
  done
}

# ---------------------------------------------------------------------------- the stack

unset DATABASE_URL
export RELEASE=1
[ -f frontend/dist/index.html ] && export BUILD_FRONTEND=0
base=18200
start_isolated_stack bench "$base"
admin=http://127.0.0.1:$ADMIN_PORT main=http://127.0.0.1:$MAIN_PORT web=http://127.0.0.1:$WEB_PORT
shop_list=$main/flask/api/products catalogue_list=$admin/api/products
stack_s=$((SECONDS - began - build_s))
memory_at start

log "a catalogue of 100 products"
for i in $(seq 1 100); do
  curl -fsS -o /dev/null -XPOST "$admin/api/products" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"title\": \"Product $i\", \"image\": \"/img/$i.png\"}"
done
for ((i = 0; i < 100; i++)); do
  [ "$(curl -fsS "$shop_list" | jq length)" = 100 ] && break
  sleep 0.1
done
curl -fsS -o "$work/list.json" "$shop_list"
memory_at idle
body_bytes=$(stat -c %s "$work/list.json")
log "the list body: $body_bytes bytes"
measure body_bytes "$body_bytes"

# ---------------------------------------------------------------------------- ceilings

log "ceiling: the list body from memory (axum)"
"$ex/ceiling_http" "$work/list.json" $((base + 90)) &
ceiling_pid=$!
extra_pids+=("$ceiling_pid")
wait_for_port 127.0.0.1 $((base + 90)) ceiling_http 10
wrk_run "http://127.0.0.1:$((base + 90))/flask/api/products"
measure_wrk ceiling.http
stop_pid "$ceiling_pid"

log "ceiling: the same bytes as a file from nginx"
static=$work/nginx-static
mkdir -p "$static/logs" "$static/tmp" "$static/root/flask/api"
cp "$work/list.json" "$static/root/flask/api/products"
cat > "$static/default.conf" <<EOF
server {
    listen 127.0.0.1:$((base + 91));
    root $static/root;
    location / { default_type application/json; }
}
EOF
# The shop's own nginx frame (worker processes, connections, access log, sendfile).
# shellcheck disable=SC2016 # envsubst's list of variables to replace, not an expansion
NGINX_PREFIX=$static envsubst '${NGINX_PREFIX}' < frontend/nginx/local.conf.template > "$static/nginx.conf"
nginx -p "$static" -c nginx.conf -g 'daemon off;' &
static_pid=$!
extra_pids+=("$static_pid")
wait_for_port 127.0.0.1 $((base + 91)) "nginx (static)" 10
wrk_run "http://127.0.0.1:$((base + 91))/flask/api/products"
measure_wrk ceiling.static

log "ceiling: MariaDB single-row commits"
out=$(DATABASE_URL=$DEFAULT_DATABASE_URL "$ex/db_commit_rate" 16 "$BENCH_SECONDS")
echo "    $out" >&2
measure ceiling.db "$out"

# ---------------------------------------------------------------------------- lists

log "lists, 100 products, wrk -t2 -c32 -d${BENCH_SECONDS}s"
for what in "shop|$shop_list" "catalogue|$catalogue_list"; do
  wrk_run "${what#*|}"
  measure_wrk "list.${what%%|*}"
done
for what in "shop|$web/flask/api/products" "catalogue|$web/api/products"; do
  wrk_run "${what#*|}"
  measure_wrk "list.${what%%|*}.nginx"
done
stop_pid "$static_pid"
memory_at lists

# ---------------------------------------------------------------------------- likes

# like_run KEY NAME PRODUCTS(FIRST-LAST) [CONNECTIONS]: likes by new shoppers for
# BENCH_SECONDS on CONNECTIONS (default 32); checks that the shop's and (after its consumer)
# the catalogue's counts grew by exactly the 200s. Records http_load's line as KEY, with
# batch_mean= (main-api's mean likes per group commit in the run, from like_batch_size)
# added, and whether the counts were exact as KEY.exact.
like_run() {
  local key=$1 name=$2 range=$3 connections=${4:-32} shop_before cat_before shop_after cat_after want line exact
  local main_metrics="http://127.0.0.1:$MAIN_PORT/metrics" b_sum b_n
  shop_before=$(sum_likes "$shop_list") cat_before=$(sum_likes "$catalogue_list")
  b_sum=$(metric_sum "$main_metrics" like_batch_size_sum) b_n=$(metric_sum "$main_metrics" like_batch_size_count)
  line=$("$ex/http_load" --addr "127.0.0.1:$MAIN_PORT" --connections "$connections" \
    --seconds "$BENCH_SECONDS" --likes "$range")
  b_sum=$(( $(metric_sum "$main_metrics" like_batch_size_sum) - b_sum ))
  b_n=$(( $(metric_sum "$main_metrics" like_batch_size_count) - b_n ))
  line="$line batch_mean=$(awk -v s="$b_sum" -v n="$b_n" 'BEGIN { printf "%.1f", n ? s / n : 0 }')"
  log "$name: $line"
  measure "$key" "$line"
  want=$(field "$line" s200)
  # The shop's list shows the new counts at once (or within its cache's staleness), the
  # catalogue once admin-consumer has applied the like events.
  local deadline=$((SECONDS + 10))
  while shop_after=$(sum_likes "$shop_list"); [ $((shop_after - shop_before)) != "$want" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  deadline=$((SECONDS + 180))
  while cat_after=$(sum_likes "$catalogue_list"); [ $((cat_after - cat_before)) != "$want" ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  if [ $((shop_after - shop_before)) = "$want" ] && [ $((cat_after - cat_before)) = "$want" ]; then
    exact=yes
  else
    exact="no (200s $want, shop +$((shop_after - shop_before)), catalogue +$((cat_after - cat_before)))"
  fi
  log "$name: count exact: $exact (shop and catalogue +$want)"
  measure "$key.exact" "$exact"
}

like_run likes.spread "likes spread over 100 products" 1-100
like_run likes.viral "likes all on product 1" 1-1
# Latency against batch size: the spread likes at 1, 8, 32 and 128 connections.
for c in 1 8 32 128; do
  like_run "likes.c$c" "likes spread over 100 products, $c connections" 1-100 "$c"
done
memory_at likes

# ---------------------------------------------------------------------------- backlog

backlog_events=${BACKLOG_EVENTS:-100000}
backlog_queue=$ADMIN_QUEUE-backlog
on_exit "rabbitmqctl -q delete_queue '$backlog_queue' >/dev/null 2>&1; rabbitmqctl -q delete_queue '$backlog_queue.dead-letter' >/dev/null 2>&1; delete_exchange '$backlog_queue.changes'"
log "backlog: $backlog_events like events on queue $backlog_queue, nobody consuming"
curl -fsS "$catalogue_list" | jq -r '.[] | "\(.id) \(.likes)"' > "$work/before.txt"
"$ex/backlog" "$backlog_queue" "$backlog_events" 100 "$work/published.txt" >&2
consumer_port=$((base + 92))
log "backlog: one admin-consumer on it (database $ADMIN_DATABASE)"
t0=$(date +%s.%N)
PORT=$consumer_port ADMIN_QUEUE=$backlog_queue SQL_HOST=$MARIADB_HOST SQL_PORT=$MARIADB_PORT \
  SQL_DATABASE=$ADMIN_DATABASE SQL_USER=root target/release/admin-consumer > "$work/backlog-consumer.log" 2>&1 &
backlog_pid=$!
extra_pids+=("$backlog_pid")
consumed=0 deadline=$((SECONDS + ${BACKLOG_LIMIT_SECONDS:-150}))
while [ "$consumed" -lt "$backlog_events" ] && [ $SECONDS -lt $deadline ] && kill -0 $backlog_pid 2>/dev/null; do
  sleep 0.1
  consumed=$(metric_sum "http://127.0.0.1:$consumer_port/metrics" events_consumed_total 2>/dev/null) || consumed=0
done
t1=$(date +%s.%N)
applied=$(metric_sum "http://127.0.0.1:$consumer_port/metrics" events_consumed_total 'outcome="applied"')
stop_pid $backlog_pid
drain_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
# Each product's catalogue count must have grown by exactly what was published for it.
exact=no
[ "$consumed" -ge "$backlog_events" ] || exact="not checked: $(num $((backlog_events - consumed))) events still queued after ${BACKLOG_LIMIT_SECONDS:-150} s"
for ((i = 0; i < 50 && consumed >= backlog_events; i++)); do
  curl -fsS "$catalogue_list" | jq -r '.[] | "\(.id) \(.likes)"' > "$work/after.txt"
  if awk 'FILENAME == ARGV[1] {b[$1] = $2; next} FILENAME == ARGV[2] {p[$1] = $2; next}
          ($1 in p) && $2 != b[$1] + p[$1] {bad++} END {exit bad > 0}' \
        "$work/before.txt" "$work/published.txt" "$work/after.txt"; then
    exact=yes; break
  fi
  sleep 0.2
done
log "backlog: $consumed consumed ($applied applied) in $drain_s s; every product exact: $exact"
[ "$consumed" -ge "$backlog_events" ] || log "backlog: stopped waiting; the rest is deleted with the queue at the end"
measure backlog.events "$backlog_events"
measure backlog.consumed "$consumed"
measure backlog.applied "$applied"
measure backlog.drain_s "$drain_s"
measure backlog.exact "$exact"

# ---------------------------------------------------------------------------- propagation

log "admin create -> listed by the shop (idle)"
idle=$("$ex/create_to_listed" "$admin" "$main" 200 15)
log "  $idle"
measure propagation.idle "$idle"

log "admin create -> listed by the shop, while wrk loads the shop list"
wrk -t2 -c32 -d25s --latency "$shop_list" > "$work/wrk-under.txt" 2>&1 &
wrk_pid=$!
extra_pids+=("$wrk_pid")
sleep 1
loaded=$("$ex/create_to_listed" "$admin" "$main" 200 15)
stop_pid $wrk_pid
log "  $loaded"
measure propagation.loaded "$loaded"

# ---------------------------------------------------------------------------- overload

log "overload: 2,000 connections liking product 2 plus 200 reading the shop list, 10 s"
shop_before=$(likes_of "$shop_list" 2) cat_before=$(likes_of "$catalogue_list" 2)
over=$("$ex/http_load" --addr "127.0.0.1:$MAIN_PORT" --connections 2200 --seconds 10 --likes 2-2 \
  --list /flask/api/products --list-connections 200 --timeout 30)
printf '    %s\n' "$over" >&2
like_line=$(grep '^like ' <<<"$over") list_line=$(grep '^list ' <<<"$over")
measure overload.like "$like_line"
measure overload.list "$list_line"
ok=$(field "$like_line" s200)
over_noanswer=$(( $(field "$like_line" noanswer) + $(field "$list_line" noanswer) ))
shop_after=$(wait_likes "$shop_list" 2 $((shop_before + ok)) 10 || true)
cat_after=$(wait_likes "$catalogue_list" 2 $((cat_before + ok)) 180 || true)
over_exact=no
[ "$shop_after" = $((shop_before + ok)) ] && [ "$cat_after" = $((cat_before + ok)) ] && [ "$over_noanswer" = 0 ] && over_exact=yes
log "overload: likes accepted $ok; shop +$((shop_after - shop_before)), catalogue +$((cat_after - cat_before)); exact: $over_exact"

# Recovery: a like and the list answer 200 quickly, pools idle, no open transaction.
rec_start=$SECONDS recovered=no
while [ $((SECONDS - rec_start)) -lt 30 ]; do
  like_t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -XPOST "$main/flask/api/products/3/like")
  list_t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$shop_list")
  if [ "${like_t%% *}" = 200 ] && [ "${list_t%% *}" = 200 ]; then recovered=yes; break; fi
  sleep 0.2
done
in_use=-1
for ((i = 0; i < 50; i++)); do
  in_use=0
  for port in "$ADMIN_PORT" "$ADMIN_CONSUMER_PORT" "$MAIN_PORT" "$MAIN_CONSUMER_PORT"; do
    in_use=$((in_use + $(metric_sum "http://127.0.0.1:$port/metrics" db_pool_connections 'state="in_use"')))
  done
  [ "$in_use" = 0 ] && break
  sleep 0.2
done
open_trx=$(mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" -N -e \
  "SELECT COUNT(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p
   ON p.id = t.trx_mysql_thread_id WHERE p.db IN ('$ADMIN_DATABASE', '$MAIN_DATABASE')")
log "overload: recovered: $recovered (like ${like_t#* } s, list ${list_t#* } s); pool connections in use: $in_use; open transactions: $open_trx"
measure overload.exact "$over_exact"
measure overload.recovered "$recovered"
measure overload.like_t "$like_t"
measure overload.list_t "$list_t"
measure overload.in_use "$in_use"
measure overload.open_trx "$open_trx"

# ---------------------------------------------------------------------------- mixed workload

log "mixed workload (goose): 50 users through nginx, 20 s"
ADMIN_TOKEN=$ADMIN_TOKEN PRODUCTS=100 target/release/loadgen --host "$web" --users 50 \
  --increase-rate 50 --run-time 20s --no-reset-metrics --quiet > "$measurements/goose.txt" 2>&1 || true

# ---------------------------------------------------------------------------- 100k products

log "a catalogue of 100,000 more products, inserted straight into both databases and indexed for search"
seed_start=$SECONDS
seed_catalogue 100000
measure big.seed_s "$((SECONDS - seed_start))"
want=$(mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" -N -e "SELECT COUNT(*) FROM $MAIN_DATABASE.products WHERE deleted_at IS NULL")
for ((i = 0; i < 60; i++)); do
  n_shop=$(curl -fsS "$shop_list" | jq length) n_cat=$(curl -fsS "$catalogue_list" | jq length)
  [ "$n_shop" -ge "$want" ] && [ "$n_cat" -ge "$want" ] && break
  sleep 0.5
done
big_bytes=$(curl -fsS "$shop_list" | wc -c)
log "the lists now hold $n_shop (shop) and $n_cat (catalogue) products, $big_bytes bytes"
page_q="limit=100&after=50000"
measure big.products "$want"
measure big.bytes "$big_bytes"
measure big.page_query "$page_q"
for what in "shop|$shop_list" "catalogue|$catalogue_list"; do
  key=big.${what%%|*} url=${what#*|}
  WRK_C=8 wrk_run "$url" --timeout 30s
  measure_wrk "$key.full"
  measure "$key.page_n" "$(curl -fsS "$url?$page_q" | jq length)"
  WRK_C=32 wrk_run "$url?$page_q" --timeout 30s
  measure_wrk "$key.page"
done
memory_at big

# ---------------------------------------------------------------------------- search and sort

# Each a page as the UIs ask for it, 32 connections, at 100,000 products (titles "Colour
# Material Kind id": a word matches 1/16 to 1/32 of the catalogue). Catalogue changes are
# paused meanwhile, so what the APIs hold per catalogue version stays held: the first
# request's time, timed alone, is what each change costs the next request.
log "search and sorted pages at 100,000 products"
for what in \
  "shop_typing|$main/flask/api/products?q=blue+linen+la&limit=48" \
  "shop_word|$main/flask/api/products?q=lamp&limit=48" \
  "shop_number|$main/flask/api/products?q=grey+4821&limit=48" \
  "catalogue_search|$admin/api/products?q=green+silk&sort=-id&per_page=25" \
  "catalogue_title|$admin/api/products?sort=title&per_page=25" \
  "catalogue_likes|$admin/api/products?sort=-likes&page=3&per_page=25" \
  "catalogue_deep|$admin/api/products?sort=title&page=2000&per_page=25" \
  "catalogue_search_title|$admin/api/products?q=blue&sort=title&per_page=25"; do
  key=search.${what%%|*} url=${what#*|}
  measure "$key.url" "${url#http://127.0.0.1:*/}"
  # The first request reads what later ones find held (lists::found): timed on its own.
  measure "$key.first_ms" "$(curl -fsS -o /dev/null -w '%{time_total}' "$url" | awk '{printf "%.1f", $1 * 1000}')"
  measure "$key.n" "$(curl -fsS "$url" | jq length)"
  WRK_C=32 wrk_run "$url" --timeout 10s
  measure_wrk "$key"
done

# ---------------------------------------------------------------------------- memory

log "resident memory of the four processes"
for p in "admin-api:$ADMIN_PORT" "admin-consumer:$ADMIN_CONSUMER_PORT" "main-api:$MAIN_PORT" "main-consumer:$MAIN_CONSUMER_PORT"; do
  pid=$(ss -ltnpH "sport = :${p#*:}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  log "  ${p%%:*}: VmRSS $rss kB, VmHWM $hwm kB"
  measure "memory.${p%%:*}" "rss_kb=$rss hwm_kb=$hwm"
done

# ---------------------------------------------------------------------------- live streams

# After the memory row, so that the streams' buffers are not in it. nginx's frame holds
# 256 connections (two per stream): 100 streams through it.
main_pid=$(ss -ltnpH "sport = :$MAIN_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
for what in "direct|$main|1000" "nginx|$web|100"; do
  IFS='|' read -r key url n <<<"$what"
  # main-api notices a client that left at its stream's next write (an event, or the 15 s
  # heartbeat): the previous run's streams are gone from its figures after 16 s.
  [ "$key" = direct ] || sleep 16
  log "live counts: $n streams through $key, 10 likes"
  out=$("$ex/sse_fanout" "$url" "$main" "$main_pid" "$n" 3 10)
  log "  $out"
  measure "sse.$key" "$out"
done

# ---------------------------------------------------------------------------- the table

total_s=$((SECONDS - began))
measure run.date "$(date -u '+%Y-%m-%d %H:%M UTC')"
measure run.cores "$(nproc)"
measure run.cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
measure run.mem_total_kb "$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
measure run.mariadb "$(mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" -N -e 'SELECT VERSION()')"
measure run.nginx "$(nginx -v 2>&1 | sed 's|.*/||')"
measure run.buffer_pool_mb "$(mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" -N -e 'SELECT @@innodb_buffer_pool_size DIV 1048576')"
measure run.loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
measure run.total_s "$total_s"
measure run.build_s "$build_s"
measure run.stack_s "$stack_s"
target/release/xtask bench-verdict "$measurements"
