#!/usr/bin/env bash
# Scale-out on this machine: the whole system with one replica of each process, then with two
# of each (a second admin-api, admin-consumer, main-api and main-consumer on the same
# databases and queues), under the same loads. Release build, its own stack
# (scripts/stack.sh), loopback only, about 3 minutes after the build; stops by itself and
# cleans up, also when interrupted. Prints one markdown table (docs/operating/scale.md):
#
#   likes        new shoppers' likes spread over 100 products, 32 connections in all (split
#                over the main-api replicas), BENCH_SECONDS (10); the catalogue's count must
#                grow by exactly the 200s, and the relays must publish no event twice
#   list         GET /flask/api/products, wrk -t2 with 32 connections in all, split likewise
#   idle         CPU each process uses doing nothing for 10 s (relay polls, version checks,
#                heartbeats), and its resident memory
#   under load   CPU each process used during the likes
#
# On two cores a second replica cannot add capacity: the point is that the guarantees hold
# and what the replicas cost.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/stack.sh

trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

BENCH_SECONDS=${BENCH_SECONDS:-10}
source scripts/bench-lib.sh
began=$SECONDS
ensure_services
ensure_nginx
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v jq >/dev/null 2>&1 || apt_install jq
export_service_urls
export LIKES_PER_MINUTE_PER_ADDRESS=0 LIKES_PER_MINUTE_PER_SHOPPER=0
export RUST_LOG=${RUST_LOG:-warn}

log "building (release)"
cargo build --release --locked --bins -p admin-svc -p main-svc -p system-tests --example http_load
ex=target/release/examples

extra_pids=()
stop_extras() {
  local pid
  for pid in ${extra_pids[@]+"${extra_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in ${extra_pids[@]+"${extra_pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
}
on_exit stop_extras

unset DATABASE_URL
export RELEASE=1
[ -f frontend/dist/index.html ] && export BUILD_FRONTEND=0
base=18400
start_isolated_stack scale "$base"
admin=http://127.0.0.1:$ADMIN_PORT main=http://127.0.0.1:$MAIN_PORT
catalogue_list=$admin/api/products

log "a catalogue of 100 products"
for i in $(seq 1 100); do
  curl -fsS -o /dev/null -XPOST "$admin/api/products" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"title\": \"Product $i\", \"image\": \"/img/$i.png\"}"
done
for ((i = 0; i < 100; i++)); do
  [ "$(curl -fsS "$main/flask/api/products" | jq length)" = 100 ] && break
  sleep 0.1
done

pid_on() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

# name:port of every process, the first replicas first.
procs=("admin-api:$ADMIN_PORT" "admin-consumer:$ADMIN_CONSUMER_PORT" "main-api:$MAIN_PORT" "main-consumer:$MAIN_CONSUMER_PORT")

# replica PORT NEW_PORT HEALTH_PATH: another replica of the process listening on PORT: the
# same binary, arguments and environment (its databases, queues, credentials), on NEW_PORT.
replica() {
  local pid exe args=() envs=()
  pid=$(pid_on "$1")
  exe=$(readlink "/proc/$pid/exe")
  mapfile -d '' -t args < "/proc/$pid/cmdline"
  mapfile -d '' -t envs < "/proc/$pid/environ"
  env -i "${envs[@]}" PORT="$2" "$exe" "${args[@]:1}" > ".run/scale-replica-$2.log" 2>&1 &
  extra_pids+=($!)
  local i
  for ((i = 0; i < 300; i++)); do
    curl -fsS "http://127.0.0.1:$2$3" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -20 ".run/scale-replica-$2.log"
  log "the replica on port $2 is not healthy after 60 s"
  return 1
}

# ticks: "name:port ticks" for every process (user + system CPU, in clock ticks).
ticks() {
  local p pid
  for p in "${procs[@]}"; do
    pid=$(pid_on "${p#*:}")
    awk -v p="$p" '{sub(/^.*\) /, ""); print p, $12 + $13}' "/proc/$pid/stat"
  done
}
# cpu_report BEFORE AFTER SECONDS: "name N % of a core" per process.
cpu_report() {
  local hz
  hz=$(getconf CLK_TCK)
  join <(sort <<<"$1") <(sort <<<"$2") |
    awk -v s="$3" -v hz="$hz" '{printf "%s%s %.0f %%", (NR > 1 ? ", " : ""), $1, 100 * ($3 - $2) / hz / s}'
}
rss_report() {
  local p pid rss sum=0 parts=()
  for p in "${procs[@]}"; do
    pid=$(pid_on "${p#*:}")
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    sum=$((sum + rss))
    parts+=("$p $((rss / 1024)) MB")
  done
  local joined
  joined=$(IFS=,; echo "${parts[*]}")
  echo "$((sum / 1024)) MB (${joined//,/, })"
}
published() {
  local s=0 p
  for p in "${procs[@]}"; do
    case $p in *-api:*) s=$((s + $(metric_sum "http://127.0.0.1:${p#*:}/metrics" events_published_total))) ;; esac
  done
  echo "$s"
}

# measure: the loads against every main-api replica, sets M_LIKES M_LIST M_IDLE M_LOAD M_RSS
measure() {
  local mains=() p n before after line ok=0 p99=0 cat_before cat_after want pub_before pub_after
  for p in "${procs[@]}"; do case $p in main-api*:*) mains+=("${p#*:}") ;; esac; done
  n=${#mains[@]}

  log "idle for 10 s"
  before=$(ticks); sleep 10; after=$(ticks)
  M_IDLE=$(cpu_report "$before" "$after" 10)
  M_RSS=$(rss_report)

  log "likes, 32 connections over $n main-api replica(s), ${BENCH_SECONDS} s"
  cat_before=$(sum_likes "$catalogue_list")
  pub_before=$(published)
  local outs=() port
  before=$(ticks)
  for port in "${mains[@]}"; do
    "$ex/http_load" --addr "127.0.0.1:$port" --connections $((32 / n)) \
      --seconds "$BENCH_SECONDS" --likes 1-100 > "$work/likes-$port" &
    outs+=($!)
  done
  wait "${outs[@]}"
  after=$(ticks)
  M_LOAD=$(cpu_report "$before" "$after" "$BENCH_SECONDS")
  local rate=0
  for port in "${mains[@]}"; do
    line=$(cat "$work/likes-$port")
    log "  main-api :$port: $line"
    ok=$((ok + $(field "$line" s200)))
    rate=$(awk -v a="$rate" -v b="$(field "$line" ok_rate)" 'BEGIN {print a + b}')
    p99=$(awk -v a="$p99" -v b="$(field "$line" p99_ms)" 'BEGIN {print (b > a ? b : a)}')
  done
  want=$((cat_before + ok))
  local deadline=$((SECONDS + 120))
  while cat_after=$(sum_likes "$catalogue_list"); [ "$cat_after" != "$want" ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  pub_after=$(published)
  local exact=yes
  [ "$cat_after" = "$want" ] || exact="no (200s $ok, catalogue +$((cat_after - cat_before)))"
  M_LIKES="$(num "$rate")/s, p99 $p99 ms; count exact: $exact; events published $((pub_after - pub_before)) for $ok likes"

  log "lists, 32 connections over $n replica(s)"
  local total=0 wrks=()
  for port in "${mains[@]}"; do
    wrk -t$((2 / n)) -c$((32 / n)) -d"${BENCH_SECONDS}s" "http://127.0.0.1:$port/flask/api/products" > "$work/wrk-$port" &
    wrks+=($!)
  done
  # Only these: a bare wait would wait for the stack too.
  wait "${wrks[@]}"
  for port in "${mains[@]}"; do
    total=$((total + $(awk '/Requests\/sec/ {printf "%.0f", $2}' "$work/wrk-$port")))
  done
  M_LIST="$(num "$total") req/s"
}

work=$(mktemp -d /tmp/shop-bench-scale.XXXXXX)
on_exit "rm -rf '$work'"

measure
one=("$M_LIKES" "$M_LIST" "$M_RSS" "$M_IDLE" "$M_LOAD")

log "a second replica of each process"
replica "$ADMIN_PORT" $((base + 20)) /api/health
replica "$ADMIN_CONSUMER_PORT" $((base + 21)) /health
replica "$MAIN_PORT" $((base + 30)) /flask/api/health
replica "$MAIN_CONSUMER_PORT" $((base + 31)) /health
procs+=("admin-api#2:$((base + 20))" "admin-consumer#2:$((base + 21))" "main-api#2:$((base + 30))" "main-consumer#2:$((base + 31))")
leaders=0
for port in "$ADMIN_PORT" $((base + 20)) "$MAIN_PORT" $((base + 30)); do
  leaders=$((leaders + $(metric_sum "http://127.0.0.1:$port/metrics" outbox_relay_leader)))
done
log "relay leaders among the four API replicas: $leaders (one per service expected)"

measure
two=("$M_LIKES" "$M_LIST" "$M_RSS" "$M_IDLE" "$M_LOAD")

echo "| | one replica of each process | two replicas of each process |"
echo "| --- | --- | --- |"
labels=("likes, new shoppers, 32 connections" "shop list, 32 connections" "resident memory" "CPU idle (10 s)" "CPU during the likes")
for i in 0 1 2 3 4; do
  echo "| ${labels[$i]} | ${one[$i]} | ${two[$i]} |"
done
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')); relay leaders with two API replicas each: $leaders of 4 API processes (one per service); run took $((SECONDS - began)) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
