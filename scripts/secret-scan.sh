#!/usr/bin/env bash
# Scans every file git tracks for secrets with detect-secrets (PyPI; installed here when
# missing). The values the tests and docs use on purpose (guest:guest URLs, made-up
# passwords) are listed in .secrets.baseline; anything else fails, with its file and line.
# The comparison is by file and secret, not by line, so that moving a known value does not
# fail the scan. After adding a value on purpose: detect-secrets scan --baseline .secrets.baseline
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

if ! command -v detect-secrets >/dev/null 2>&1; then
  log "installing detect-secrets (pip)"
  python3 -m pip install --quiet --disable-pip-version-check detect-secrets
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

current=$(mktemp)
on_exit "rm -f '$current'"
cp .secrets.baseline "$current"
detect-secrets scan --baseline "$current"
python3 - "$current" .secrets.baseline <<'PY'
import json, sys

def secrets(path):
    results = json.load(open(path))["results"]
    return {(f, s["hashed_secret"]): (s["type"], s["line_number"])
            for f, found in results.items() for s in found}

current, known = secrets(sys.argv[1]), secrets(sys.argv[2])
new = sorted((f, line, kind) for (f, h), (kind, line) in current.items() if (f, h) not in known)
for f, line, kind in new:
    print(f"{f}:{line}: {kind}")
print(f"secret scan: {len(current)} known test values, {len(new)} new", file=sys.stderr)
sys.exit(1 if new else 0)
PY
