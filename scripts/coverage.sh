# shellcheck shell=bash
# Sourced by scripts/test.sh: line coverage of the Rust crates, measured in the test
# command's one run (no second run of the suite). cargo-llvm-cov's environment (show-env)
# makes cargo build this workspace's crates with `-C instrument-coverage` (its rustc wrapper
# instruments only the workspace's crates, not the dependencies) into target/llvm-cov-target;
# every process started from those binaries, the tests and the services they spawn alike,
# writes a profile there when it exits by itself (a SIGKILLed process writes none). The
# report merges them and prints each crate's line coverage; below COVERAGE_MIN for a crate
# of COVERAGE_CRATES, the test command fails.
#
# Measured: admin-svc, main-svc, runtime and events, their src/ (tests/ directories and
# tests.rs files are left out, as cargo-llvm-cov does by default). Not measured yet: repair
# (shop-repair, run as a process by system-tests' repair.rs and monitoring.rs; its first
# full measurement is still to come, so it is not yet held to COVERAGE_MIN). Not measured:
# testkit, system-tests, loadgen and xtask, which are test and benchmark tools, not the shop.

# The cargo-llvm-cov that `cargo install` fetches when none is installed.
CARGO_LLVM_COV_VERSION=0.9.1
COVERAGE_CRATES=(admin-svc main-svc runtime events)
COVERAGE_MIN=${COVERAGE_MIN:-80}
COVERAGE_IGNORE='/crates/(testkit|system-tests|loadgen|xtask)/'

# ensure_coverage_tools: llvm-tools (rustup), cargo-llvm-cov (cargo install) and jq (the
# per-crate sums; Debian's package), each when missing.
ensure_coverage_tools() {
  if ! rustup component list --installed 2>/dev/null | grep -q '^llvm-tools'; then
    log "installing llvm-tools (rustup component)"
    rustup component add llvm-tools
  fi
  if ! cargo llvm-cov --version >/dev/null 2>&1; then
    log "installing cargo-llvm-cov $CARGO_LLVM_COV_VERSION (cargo install)"
    cargo install --locked --quiet cargo-llvm-cov --version "$CARGO_LLVM_COV_VERSION"
  fi
  command -v jq >/dev/null 2>&1 || apt_install jq
}

# coverage_target_dir: from here on, cargo builds into target/llvm-cov-target, apart from
# a developer's target/debug (where an instrumented binary would write profiles into
# whatever directory it is run from). Scripts that run binaries by path find them under
# $CARGO_TARGET_DIR. `cargo llvm-cov report` run by hand afterwards finds the same
# directory: it is cargo-llvm-cov's default.
coverage_target_dir() {
  export CARGO_TARGET_DIR=$PWD/target/llvm-cov-target
}

# coverage_env: from here on, cargo builds the workspace's crates instrumented, and every
# process run from them writes its profile into $CARGO_TARGET_DIR.
coverage_env() {
  coverage_target_dir
  # shellcheck source=/dev/null
  source <(cargo llvm-cov show-env --sh 2>/dev/null)
}

# coverage_clean: forgets the profiles of earlier runs, and rebuilds the workspace's crates
# (not the dependencies): a test binary left over from an older build would report its
# stale lines as never run. `cargo clean -p` removes the artifacts of the targets the
# workspace has now; an executable still there afterwards belongs to a test, example or
# binary since deleted or renamed, and goes too (the report reads every executable here).
coverage_clean() {
  cargo llvm-cov clean --workspace
  local dir
  for dir in "$CARGO_TARGET_DIR/debug" "$CARGO_TARGET_DIR/debug/deps" "$CARGO_TARGET_DIR/debug/examples"; do
    [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -perm -u+x ! -name '*.so' -delete
  done
  return 0
}

# coverage_report: merges the profiles, prints each crate's line coverage (and, for a crate
# below COVERAGE_MIN, its files with the most lines never run) and fails when any crate of
# COVERAGE_CRATES is below COVERAGE_MIN percent. The summary is kept in
# target/llvm-cov-target/coverage.json.
coverage_report() {
  local summary=$CARGO_TARGET_DIR/coverage.json
  cargo llvm-cov report --json --summary-only --ignore-filename-regex "$COVERAGE_IGNORE" \
    --output-path "$summary"
  local crate line count missed percent failed=()
  printf '%-12s %8s %8s %8s\n' crate lines missed cover >&2
  for crate in "${COVERAGE_CRATES[@]}"; do
    line=$(jq -r --arg c "/crates/$crate/" '
      [.data[0].files[] | select(.filename | contains($c)) | .summary.lines]
      | [(map(.count) | add // 0), (map(.covered) | add // 0)]
      | "\(.[0]) \(.[0] - .[1]) \(if .[0] > 0 then (.[1] * 10000 / .[0] | floor) / 100 else 0 end)"' "$summary")
    read -r count missed percent <<< "$line"
    printf '%-12s %8d %8d %7.2f%%\n' "$crate" "$count" "$missed" "$percent" >&2
    if awk -v p="$percent" -v m="$COVERAGE_MIN" 'BEGIN { exit !(p < m) }'; then
      failed+=("$crate")
    fi
  done
  jq -r '.data[0].totals.lines | "total        \(.count) lines, \(.count - .covered) missed, \(.percent * 100 | floor / 100) %"' \
    "$summary" >&2
  [ ${#failed[@]} -eq 0 ] && return 0
  for crate in "${failed[@]}"; do
    log "$crate: the files with the most lines never run"
    jq -r --arg c "/crates/$crate/" '
      [.data[0].files[] | select(.filename | contains($c))
       | {f: (.filename | sub(".*/crates/"; "crates/")), l: .summary.lines}]
      | sort_by(.l.covered - .l.count) | .[:12][]
      | "  \(.l.count - .l.covered) of \(.l.count)  \(.f)"' "$summary" >&2
  done
  log "line coverage below $COVERAGE_MIN % for: ${failed[*]}"
  return 1
}
