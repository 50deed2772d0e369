# shellcheck shell=bash
# Sourced by the benchmarks (scripts/bench.sh, scripts/bench-scale.sh): reading wrk's and
# http_load's output, and formatting figures (bench.sh's verdicts and table are
# crates/xtask's bench-verdict, which reads figures the same way). Needs BENCH_SECONDS set.

# to_ms 1.23ms|456.00us|1.02s -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n;
                         else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
# wrk_run URL [wrk options]: sets W_RPS, W_P50, W_P99 (ms) and W_BAD (non-2xx answers and
# socket errors). 2 threads, WRK_C connections (32), BENCH_SECONDS.
wrk_run() {
  local url=$1 out; shift
  out=$(wrk -t2 -c"${WRK_C:-32}" -d"${BENCH_SECONDS}s" --latency "$@" "$url")
  W_RPS=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  W_BAD=$(awk '/Non-2xx/ {n += $NF}
               /Socket errors/ {gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i}
               END {print n + 0}' <<<"$out")
  printf '    %-48s %8s req/s  p50 %7s ms  p99 %7s ms  errors %s\n' "$url" "$W_RPS" "$W_P50" "$W_P99" "$W_BAD" >&2
}
# field LINE KEY: the value of KEY=value in an http_load line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
# num 12345.6 -> 12,345
num() {
  awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); r = "";
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    print s r }'
}

# sum_likes URL: the like counts of the list at URL, summed.
sum_likes() { curl -fsS "$1" | jq '[.[].likes] | add // 0'; }
# metric_sum URL NAME [LABEL_FILTER]: the sum of a metric's samples at URL.
metric_sum() {
  curl -fsS "$1" | awk -v name="$2" -v filter="${3:-}" \
    'index($0, name) == 1 && (filter == "" || index($0, filter)) {s += $NF} END {printf "%.0f", s}'
}
