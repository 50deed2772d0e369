#!/usr/bin/env bash
# The previous release's binaries, for the mixed-version upgrade check
# (docs/operating/upgrades.md): builds admin-api, admin-consumer, main-api and main-consumer
# of the previous release in RELEASE mode into <cache>/<sha>/ (below), and prints that
# directory (the only thing on standard output; progress goes to standard error).
#
# The previous release is, in this order:
#   1. PREVIOUS_RELEASE=REF, when set (a tag, a branch or a commit);
#   2. the newest tag `v*` reachable from HEAD that does not point at HEAD itself (by
#      version order: v0.10.0 after v0.9.0);
#   3. the commit pinned in deploy/previous-release (a CI checkout may have no tags).
# Neither found, or the commit missing from this clone (a shallow checkout): it fails,
# saying so.
#
# The cache: when <cache>/<sha>/ already holds the four binaries, nothing is built. The
# cache is PREVIOUS_CACHE_DIR, by default ~/.cache/shop/previous (XDG_CACHE_HOME), outside
# the checkout: it outlives a clean clone, so a machine or CI agent builds each previous
# release once (a commit's binaries never change; any number of checkouts may share it).
# Otherwise the commit is checked out in a git worktree outside the tree (removed at the
# end, whatever happens) and built with `cargo build --release -p admin-svc -p main-svc
# --locked` in a target directory of the cache's own (<cache>/target, or
# PREVIOUS_TARGET_DIR), kept for the next release's build. Never in the current tree's
# target directory: cargo names a workspace's crates by their path inside the workspace and
# judges them fresh by their files' times, so after the previous release's build in a
# shared directory the current tree's build took v0.1.0's `events` for its own (seen: the
# current build failed to compile against it). A cold build costs a release build of the
# services' dependencies: 20 minutes on 2 busy cores on 2026-12-07.
#
#   scripts/previous-release.sh             build if needed; print the directory
#   scripts/previous-release.sh --commit    print the previous release's commit and stop
#   scripts/previous-release.sh --tag       print its name (the tag, or the pinned commit)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

binaries=(admin-api admin-consumer main-api main-consumer)
say() { printf 'previous-release: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

# The previous release as "NAME SHA" (the tag or ref it came from, and its commit).
resolve() {
  local head ref sha
  head=$(git rev-parse --verify 'HEAD^{commit}')
  if [ -n "${PREVIOUS_RELEASE:-}" ]; then
    sha=$(git rev-parse --verify --quiet "${PREVIOUS_RELEASE}^{commit}") ||
      fail "PREVIOUS_RELEASE=$PREVIOUS_RELEASE names no commit of this clone (git fetch --tags?)"
    echo "$PREVIOUS_RELEASE $sha"
    return
  fi
  while read -r ref; do
    [ -n "$ref" ] || continue
    sha=$(git rev-parse "${ref}^{commit}")
    if [ "$sha" != "$head" ]; then
      echo "$ref $sha"
      return
    fi
  done < <(git tag --merged HEAD --list 'v*' --sort=-v:refname)
  if [ -f deploy/previous-release ]; then
    ref=$(grep -v '^[[:space:]]*#' deploy/previous-release | tr -d '[:space:]')
    [ -n "$ref" ] || fail "deploy/previous-release holds no commit"
    sha=$(git rev-parse --verify --quiet "${ref}^{commit}") ||
      fail "deploy/previous-release pins $ref, which this clone does not have (a shallow checkout? git fetch --unshallow)"
    echo "$ref $sha"
    return
  fi
  fail "no previous release: no tag v* reachable from HEAD other than HEAD itself, and no deploy/previous-release (git fetch --tags, or pin a commit there)"
}

read -r name sha < <(resolve)
case "${1:-}" in
  --commit) echo "$sha"; exit 0 ;;
  --tag) echo "$name"; exit 0 ;;
  "") ;;
  *) fail "unknown argument $1 (known: --commit, --tag)" ;;
esac

cache=${PREVIOUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shop/previous}
mkdir -p "$cache"
out="$(cd "$cache" && pwd)/$sha"
have_all() {
  local b
  for b in "${binaries[@]}"; do [ -x "$out/$b" ] || return 1; done
}
if have_all; then
  say "$name ($sha) already built in $out"
  echo "$out"
  exit 0
fi

src=$(mktemp -d "${TMPDIR:-/tmp}/shop-previous.XXXXXX")
cleanup() {
  git -C "$root" worktree remove --force "$src" >/dev/null 2>&1 || rm -rf "$src"
  git -C "$root" worktree prune
}
trap cleanup EXIT
say "building $name ($sha) in a worktree at $src"
git worktree add --detach --quiet "$src" "$sha"
target_dir=${PREVIOUS_TARGET_DIR:-$cache/target}
mkdir -p "$target_dir"
target_dir=$(cd "$target_dir" && pwd)
started=$(date +%s)
if ! (cd "$src" && CARGO_TARGET_DIR="$target_dir" cargo build --release -p admin-svc -p main-svc --locked); then
  fail "the build of $name ($sha) failed"
fi
mkdir -p "$out.partial"
for b in "${binaries[@]}"; do
  cp "$target_dir/release/$b" "$out.partial/$b"
done
# What the previous release knew of the schema: its migrations, one file name a line.
git ls-tree -r --name-only "$sha" -- crates | grep '/migrations/.*\.sql$' >"$out.partial/migrations.txt" || true
echo "$name $sha" >"$out.partial/release.txt"
rm -rf "$out"
mv "$out.partial" "$out"
say "$name built in $(($(date +%s) - started)) s into $out"
echo "$out"
