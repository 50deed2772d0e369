#!/usr/bin/env bash
# The compose proof (issue 15, "The deployable stack"): brings docker-compose.yml up under
# podman on this machine, checks that it works, and takes it down with its volumes.
# docs/operating/compose.md, "The compose proof", tells each step; deploy/README.md why the
# stand-ins are what they are.
# This script installs the tools and builds the images; the checks are a program
# (crates/xtask, `xtask compose-proof`) that reuses the system tests' clients and checks.
#
#  1. tools: podman, runc, netavark, aardvark-dns, debootstrap (Debian) and podman-compose
#     (PyPI, pinned, in a venv under ~/.cache) when missing; podman's settings come from
#     deploy/proof/containers.conf through CONTAINERS_CONF (/etc is not touched);
#  2. a Debian bookworm base image made with debootstrap (kept between runs);
#  3. the binaries (cargo build, a no-op after `scripts/test.sh rust`); stand-ins FROM that
#     base for the official images no registry here can give (deploy/proof/*.Dockerfile;
#     Jaeger's is otlp-sink, testkit's OTLP receiver), and our images from
#     deploy/*.Dockerfile's runtime stages with the binaries and the UI built on this machine;
#  4. xtask compose-proof: `podman-compose config` passes, and fails naming a variable missing
#     from the env file; up; every service healthy; through the web server the first admin
#     signs in and the happy path (testkit's) goes through; Prometheus scrapes every target
#     up; every process's spans reach the trace backend's address; a database dump; the
#     database away and back; a graceful stop loses no accepted like; Grafana (not run: in no
#     registry here) checked statically; down -v, also on failure.
# Every wait is bounded; each part's time is printed at the end (the checks' parts by xtask).
#
# Environment: PROOF_PROFILE=debug|release (which target/ binaries to package, or
# $CARGO_TARGET_DIR's: the test command's instrumented build; default: release when
# target/release has all four and is newer, else debug), PROOF_FULL_BUILD=1 (build
# shop/admin and shop/main through the Dockerfile's own Rust stages instead, with this
# machine's toolchain in a stand-in Rust image: a cold release build), PROOF_KEEP=1 (leave the
# stack up at the end), PROOF_REBUILD_BASE=1 (make the Debian base again), PROOF_WEB_PORT
# (18080), PROOF_PROMETHEUS_PORT (19090), PROOF_ALERTMANAGER_PORT (19093), PROOF_GRAFANA_PORT (13000), PROOF_JAEGER_PORT (26686).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

time_steps "compose proof: "

export CONTAINERS_CONF=$PWD/deploy/proof/containers.conf
BASE_IMAGE=localhost/shop-proof/debian:bookworm
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/shop-compose-proof
PODMAN_COMPOSE_VERSION=1.6.0
WORK=.run/compose-proof
mkdir -p "$WORK"

# A bound on every command that could wait on something: timeout SECONDS COMMAND...
t() { timeout --kill-after=10 "$@"; }
die() {
  log "compose proof FAILED: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------
step "tools: podman, runc, debootstrap, podman-compose $PODMAN_COMPOSE_VERSION"
missing=()
for tool in podman runc debootstrap iptables netavark:/usr/lib/podman/netavark aardvark-dns:/usr/lib/podman/aardvark-dns; do
  name=${tool%%:*} path=${tool#*:}
  if [ "$path" = "$tool" ]; then command -v "$name" >/dev/null 2>&1 || missing+=("$name")
  else [ -x "$path" ] || missing+=("$name"); fi
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
command -v strip >/dev/null 2>&1 || apt_install binutils
PC=$CACHE/venv/bin/podman-compose
if ! [ -x "$PC" ] || [ "$("$PC" --version 2>/dev/null | sed -n 's/^podman-compose version //p')" != "$PODMAN_COMPOSE_VERSION" ]; then
  log "installing podman-compose $PODMAN_COMPOSE_VERSION (PyPI) in $CACHE/venv"
  rm -rf "$CACHE/venv"
  mkdir -p "$CACHE"
  python3 -m venv "$CACHE/venv"
  t 300 "$CACHE/venv/bin/pip" install --quiet --disable-pip-version-check "podman-compose==$PODMAN_COMPOSE_VERSION"
fi
podman --version >&2

# ---------------------------------------------------------------------------------------
step "Debian bookworm base image (debootstrap; kept between runs)"
debian_mirror() {
  # The first Debian mirror apt is configured with (deb822 .sources or one-line lists).
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^URIs:/ { uri = $2 } /^Suites:/ { if (uri !~ /security/ && $0 ~ /bookworm/) { print uri; exit } }')
  [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $0 ~ / bookworm / && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')
  printf '%s\n' "${m:-http://deb.debian.org/debian}"
}
if [ "${PROOF_REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$BASE_IMAGE"; then
  mirror=$(debian_mirror)
  root=$CACHE/debian-root
  rm -rf "$root"
  log "debootstrap --variant=minbase bookworm from $mirror (about 2 minutes)"
  t 900 debootstrap --variant=minbase bookworm "$root" "$mirror" > "$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
  # As debian:bookworm-slim: no documentation, manual pages or translations, no apt lists.
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,locale,lintian,linda}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
  security=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]*debian-security[^ ]*' | head -1 || true)
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    [ -z "$security" ] || echo "deb $security bookworm-security main"
  } > "$root/etc/apt/sources.list"
  # No recommended packages, as in the official images' builds; and, as the official image's
  # docker-clean, no package caches left behind by apt-get in a layer.
  echo 'APT::Install-Recommends "false";' > "$root/etc/apt/apt.conf.d/99-no-recommends"
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  tar -C "$root" -c . | t 300 podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
else
  log "reusing $BASE_IMAGE"
fi

# ---------------------------------------------------------------------------------------
step "the binaries: cargo build --workspace --bins (a no-op after scripts/test.sh rust)"
profile=${PROOF_PROFILE:-}
# The test command's instrumented build when it set CARGO_TARGET_DIR (scripts/coverage.sh).
bin_dir=${CARGO_TARGET_DIR:-target}
if [ -z "$profile" ]; then
  profile=debug
  if [ -x "$bin_dir/release/admin-api" ] && [ "$bin_dir/release/admin-api" -nt "$bin_dir/debug/admin-api" ]; then profile=release; fi
fi
release=()
[ "$profile" = debug ] || release=(--release)
# The whole workspace, as the test command builds it: the same features, so nothing is
# built again. The services' binaries are packaged below (unless PROOF_FULL_BUILD=1), xtask
# runs the checks, otlp-sink stands in for Jaeger.
cargo build --workspace --bins --locked ${release[@]+"${release[@]}"}

# ---------------------------------------------------------------------------------------
step "stand-in images (Debian's packages, FROM the base)"
SUBSTITUTED=()
build_substitute() { # service Dockerfile-name official-image
  local image=localhost/shop-proof/$2:latest
  log "building $image in place of $3"
  t 900 podman build -q --pull=never --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -f "deploy/proof/$2.Dockerfile" -t "$image" deploy/proof > /dev/null \
    || die "building $image failed"
  SUBSTITUTED+=("$1: $3 -> $image (Debian's packages)")
}
official_image() { awk -v s="  $1:" '$0 == s { f = 1; next } f && /^    image:/ { print $2; exit }' docker-compose.yml; }
build_substitute mariadb mariadb "$(official_image mariadb)"
build_substitute rabbitmq rabbitmq "$(official_image rabbitmq)"
build_substitute prometheus prometheus "$(official_image prometheus)"
build_substitute alertmanager alertmanager "$(official_image alertmanager)"
build_substitute mysqld-exporter mysqld-exporter "$(official_image mysqld-exporter)"
build_substitute web nginx "docker.io/nginxinc/nginx-unprivileged (web's base)"
# Jaeger's stand-in is a program of this repository (crates/xtask's otlp-sink: testkit's OTLP
# receiver, counting spans by service), packaged stripped of debug information.
log "building localhost/shop-proof/otlp-sink:latest in place of $(official_image jaeger)"
rm -rf .prebuilt && mkdir -p .prebuilt/otlp-sink
strip --strip-debug -o .prebuilt/otlp-sink/otlp-sink "$bin_dir/$profile/otlp-sink"
t 900 podman build -q --pull=never --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -f deploy/proof/otlp-sink.Dockerfile -t localhost/shop-proof/otlp-sink:latest .prebuilt/otlp-sink > /dev/null \
  || die "building the OTLP sink failed"
SUBSTITUTED+=("jaeger: $(official_image jaeger) -> localhost/shop-proof/otlp-sink:latest (an OTLP/HTTP sink on Jaeger's ports, not Jaeger: no trace store or UI)")

# ---------------------------------------------------------------------------------------
step "our images: shop/admin, shop/main, shop/web (runtime stages of deploy/*.Dockerfile)"
[ -f frontend/dist/index.html ] || build_frontend
rm -rf .prebuilt && mkdir -p .prebuilt/bin
if [ "${PROOF_FULL_BUILD:-0}" != 1 ]; then
  for bin in admin-api admin-consumer main-api main-consumer shop-repair; do
    strip --strip-debug -o ".prebuilt/bin/$bin" "$bin_dir/$profile/$bin"
  done
  log "packaging the $profile binaries (stripped of debug information) and frontend/dist"
fi
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
labels=(--build-arg "VERSION=proof" --build-arg "REVISION=$revision" --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
if [ "${PROOF_FULL_BUILD:-0}" = 1 ]; then
  # The whole multi-stage build (skeleton, dependencies, release build), with this machine's
  # toolchain in a stand-in for the Rust image. Not in the test command: a cold release build.
  log "PROOF_FULL_BUILD=1: building a Rust image from the base and this machine's toolchain"
  t 900 podman build -q --pull=never --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -v "$(rustc --print sysroot)":/opt/host-rust:ro \
    -f deploy/proof/rust.Dockerfile -t localhost/shop-proof/rust:latest deploy/proof > /dev/null \
    || die "building the Rust stand-in failed"
  for target in admin main; do
    started=$SECONDS
    t 3600 podman build --pull=never --format docker -f deploy/services.Dockerfile --target "$target" \
      --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" --build-arg "RUST_IMAGE=localhost/shop-proof/rust:latest" \
      "${labels[@]}" -t "localhost/shop/$target:proof" . > "$WORK/full-build-$target.log" 2>&1 \
      || { tail -30 "$WORK/full-build-$target.log"; die "the full build of shop/$target failed"; }
    log "full multi-stage build of shop/$target: $((SECONDS - started)) s"
  done
else
  for target in admin main; do
    t 900 podman build -q --pull=never --format docker -f deploy/services.Dockerfile --target "$target" \
      --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" --build-arg "RUST_IMAGE=$BASE_IMAGE" \
      --build-arg BINARIES=prebuilt "${labels[@]}" -t "localhost/shop/$target:proof" . > /dev/null \
      || die "building shop/$target failed"
  done
fi
t 900 podman build -q --pull=never --format docker -f deploy/web.Dockerfile --target web \
  --build-arg "NGINX_IMAGE=localhost/shop-proof/nginx:latest" --build-arg "NODE_IMAGE=$BASE_IMAGE" \
  --build-arg DIST=prebuilt "${labels[@]}" -t localhost/shop/web:proof . > /dev/null \
  || die "building shop/web failed"
rm -rf .prebuilt
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^localhost/shop(-proof)?/' | sort >&2

# ---------------------------------------------------------------------------------------
step "the checks: xtask compose-proof (each of its parts timed by itself)"
printf '%s\n' "${SUBSTITUTED[@]}" > "$WORK/substituted.txt"
# The checks, then down -v (also when they fail).
"$bin_dir/$profile/xtask" compose-proof --podman-compose "$PC"
