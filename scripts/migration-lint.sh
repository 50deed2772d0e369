#!/usr/bin/env bash
# The migration rule, checked (docs/operating/upgrades.md, "Expand, then contract"): a
# migration newer than the previous release never breaks the previous release's queries.
#
# For every migration (crates/*/migrations/*.sql) that the previous release
# (scripts/previous-release.sh --commit) does not have, it fails on:
#   - destructive or narrowing DDL: DROP (a table, a column, an index, a key…), RENAME,
#     ALTER … CHANGE, ALTER … MODIFY, TRUNCATE;
#   - a column added NOT NULL without a DEFAULT (the previous release's INSERTs do not name
#     it), a UNIQUE or PRIMARY key added (its writes may break it);
# unless the file is marked as a contract step with the release it follows:
#   -- contract: follows vX.Y.Z
# where vX.Y.Z is a tag that the previous release is, or comes after: that release and every
# later one no longer use what the step removes.
# It also fails on a migration the previous release has whose bytes changed here (an applied
# migration is never edited: sqlx refuses it, VersionMismatch).
#
#   scripts/migration-lint.sh              the repository's migrations
#   scripts/migration-lint.sh FILE…        these files, taken as new (the lint's own tests)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'migration-lint: %s\n' "$*" >&2; }
failures=0
flag() { say "$1: $2"; failures=$((failures + 1)); }

# One statement per line, upper case, comments and string literals left out.
statements() {
  sed -e 's/--.*$//' -e "s/'[^']*'/''/g" "$1" | tr '\n' ' ' | tr ';' '\n' |
    tr '[:lower:]\t\r' '[:upper:]  ' | tr -s ' '
}

# What in the statement breaks the previous release, or nothing.
destructive() {
  local s=" $1 "
  case "$s" in
    *" DROP "*) echo "DROP" ;;
    *" RENAME "*) echo "RENAME" ;;
    *" TRUNCATE "*) echo "TRUNCATE" ;;
    *" CREATE UNIQUE INDEX "*) echo "a UNIQUE index on an existing table" ;;
    *" ALTER TABLE "*" CHANGE "*) echo "ALTER … CHANGE (a rename or a new type)" ;;
    *" ALTER TABLE "*" MODIFY "*) echo "ALTER … MODIFY (a new type, maybe narrower)" ;;
    *" ALTER TABLE "*" ADD "*"UNIQUE"* | *" ALTER TABLE "*" ADD "*"PRIMARY KEY"*)
      echo "a UNIQUE or PRIMARY key added to an existing table" ;;
    *" ALTER TABLE "*" ADD "*)
      # Each added column on its own: NOT NULL needs a DEFAULT.
      local part
      while read -r part; do
        if [[ " $part " == *" NOT NULL "* && " $part " != *" DEFAULT "* && " $part " != *" AUTO_INCREMENT "* ]]; then
          echo "a column added NOT NULL without a DEFAULT"
          return
        fi
      done < <(printf '%s\n' "${s// ADD /$'\n'}" | tail -n +2)
      ;;
  esac
}

# "follows vX.Y.Z" checked: the tag exists and the previous release is it or comes after.
# 0: a valid contract step; 1: not marked; 2: marked, and what is wrong with it flagged.
contract_ok() {
  local file=$1 previous=$2 tag sha
  tag=$(sed -n 's/^[[:space:]]*--[[:space:]]*contract:[[:space:]]*follows[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$file" | head -n 1)
  [ -n "$tag" ] || return 1
  sha=$(git rev-parse --verify --quiet "${tag}^{commit}") || {
    flag "$file" "marked a contract step following $tag, which this clone does not know (git fetch --tags)"
    return 2
  }
  if [ -n "$previous" ] && ! git merge-base --is-ancestor "$sha" "$previous"; then
    flag "$file" "a contract step following $tag, but the previous release does not include $tag: the release it drops things for still runs during this upgrade"
    return 2
  fi
  return 0
}

check_file() {
  local file=$1 previous=$2 statement what marked
  while IFS= read -r statement; do
    what=$(destructive "$statement")
    [ -n "$what" ] || continue
    marked=0
    contract_ok "$file" "$previous" || marked=$?
    if [ "$marked" = 0 ]; then
      say "$file: $what, allowed: a contract step ($(grep -m1 -o 'contract:.*' "$file"))"
    elif [ "$marked" = 1 ]; then
      flag "$file" "$what in a migration newer than the previous release breaks that release's queries (expand, then contract: docs/operating/upgrades.md); if the previous release no longer uses it, mark the file '-- contract: follows vX.Y.Z'"
    fi
  done < <(statements "$file")
}

if [ $# -gt 0 ]; then
  previous=$(scripts/previous-release.sh --commit 2>/dev/null || true)
  for file in "$@"; do check_file "$file" "$previous"; done
else
  previous=$(scripts/previous-release.sh --commit)
  checked=0
  while IFS= read -r file; do
    if git cat-file -e "$previous:$file" 2>/dev/null; then
      if [ "$(git rev-parse "$previous:$file")" != "$(git hash-object "$file")" ]; then
        flag "$file" "edited since the previous release applied it; never edit an applied migration, add a new one"
      fi
      continue
    fi
    checked=$((checked + 1))
    check_file "$file" "$previous"
  done < <(git ls-files -co --exclude-standard 'crates/*/migrations/*.sql' | sort)
  while IFS= read -r file; do
    [ -f "$file" ] || flag "$file" "the previous release applied it and it is gone; a binary without it cannot tell a missing migration from a newer release's"
  done < <(git ls-tree -r --name-only "$previous" -- crates | grep '/migrations/.*\.sql$' || true)
  say "$checked migration(s) newer than the previous release ($previous) checked"
fi
[ "$failures" -eq 0 ] || { say "$failures problem(s)"; exit 1; }
