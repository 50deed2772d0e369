#!/usr/bin/env bash
# Fails when a Rust source file other than a test is over 400 lines: a file that long does
# more than one job, and the next change to it is harder than it need be. Tests (a crate's
# tests/ folder, and the test-tool crates testkit and system-tests) are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=400
over=0
while IFS= read -r file; do
  lines=$(wc -l < "$file")
  if [ "$lines" -gt "$limit" ]; then
    echo "$file: $lines lines (at most $limit): split it by what its parts do"
    over=1
  fi
done < <(git ls-files 'crates/*.rs' | grep -v -e '/tests/' -e '^crates/testkit/' -e '^crates/system-tests/')
exit "$over"
