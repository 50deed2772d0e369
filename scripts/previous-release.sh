#!/usr/bin/env bash
# The previous release's binaries, for the mixed-version upgrade check
# (docs/operating/upgrades.md): builds admin-api, admin-consumer, main-api and main-consumer
# of the previous release in RELEASE mode into target/previous/<sha>/, and prints that
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
# The cache: when target/previous/<sha>/ already holds the four binaries, nothing is built.
# PREVIOUS_CACHE_DIR=DIR puts <sha>/ under DIR instead of target/previous (CI: a directory of
# the agent's that outlives the workspace; a commit's binaries never change, so any number of
# builds may share it).
# Otherwise the commit is checked out in a git worktree outside the tree (removed at the
# end, whatever happens) and built with `cargo build --release --workspace --bins --locked`,
# the same command as the current tree's release build, in CARGO_TARGET_DIR when set (CI
# and the shared machine point it at the one release target directory of the current tree,
# so that the dependencies are compiled once for both: only the previous release's own
# crates compile again), else in target/ (the current tree's, for the same reason). The
# current tree's binaries in <target>/release/ are put back afterwards: a test that takes
# them from there never runs the previous release's by mistake.
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

cache=${PREVIOUS_CACHE_DIR:-$root/target/previous}
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
  rm -rf "$src.current"
}
trap cleanup EXIT
say "building $name ($sha) in a worktree at $src"
git worktree add --detach --quiet "$src" "$sha"
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
# The current tree's binaries, kept aside while cargo puts the previous release's there.
stash="$src.current"
mkdir -p "$stash"
for b in "${binaries[@]}"; do
  if [ -f "$target_dir/release/$b" ]; then cp -p "$target_dir/release/$b" "$stash/$b"; fi
done
put_back() {
  local b
  for b in "${binaries[@]}"; do
    if [ -f "$stash/$b" ]; then cp -p "$stash/$b" "$target_dir/release/$b"; else rm -f "$target_dir/release/$b"; fi
  done
  rm -rf "$stash"
}
started=$(date +%s)
if ! (cd "$src" && CARGO_TARGET_DIR="$target_dir" cargo build --release --workspace --bins --locked); then
  put_back
  fail "the build of $name ($sha) failed"
fi
mkdir -p "$out.partial"
for b in "${binaries[@]}"; do
  cp "$target_dir/release/$b" "$out.partial/$b"
done
put_back
# What the previous release knew of the schema: its migrations, one file name a line.
git ls-tree -r --name-only "$sha" -- crates | grep '/migrations/.*\.sql$' >"$out.partial/migrations.txt" || true
echo "$name $sha" >"$out.partial/release.txt"
rm -rf "$out"
mv "$out.partial" "$out"
say "$name built in $(($(date +%s) - started)) s into $out"
echo "$out"
