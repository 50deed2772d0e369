#!/usr/bin/env bash
# The compose proof (issue 15, "The deployable stack"): brings docker-compose.yml up under
# podman on this machine, checks that it works, and takes it down with its volumes.
# docs/operating/compose.md, "The compose proof", tells each step; deploy/README.md why the
# stand-ins are what they are.
#
#  1. tools: podman, runc, netavark, aardvark-dns, debootstrap (Debian) and podman-compose
#     (PyPI, pinned, in a venv under ~/.cache) when missing; podman's settings come from
#     deploy/proof/containers.conf through CONTAINERS_CONF (/etc is not touched);
#  2. a Debian bookworm base image made with debootstrap (kept between runs);
#  3. stand-ins FROM that base for the official images no registry here can give
#     (deploy/proof/*.Dockerfile), and our images from deploy/*.Dockerfile's runtime stages
#     with the binaries and the UI built on this machine;
#  4. `podman-compose config` passes, and fails naming a variable missing from the env file;
#  5. up (the stand-ins through an override file; no database or broker port published, so
#     the machine's own MariaDB and RabbitMQ are never touched); every service healthy;
#  6. through the web server: the first admin made with create-user signs in and creates a
#     product, the shop lists it, a shopper likes it, the catalogue counts it; Prometheus
#     scrapes every target up; every process's spans reach the trace backend's address; a
#     database dump; the database away and back (503, no process stops, recovery);
#  7. graceful stop: every like accepted while the processes stop and start is counted;
#  8. Grafana (not run: in no registry here) checked statically; down -v, also on failure.
# Every wait is bounded; each part's time is printed at the end.
#
# Environment: PROOF_PROFILE=debug|release (which target/ binaries to package; default:
# release when target/release has all four and is newer, else debug), PROOF_FULL_BUILD=1 (build
# shop/admin and shop/main through the Dockerfile's own Rust stages instead, with this
# machine's toolchain in a stand-in Rust image: a cold release build), PROOF_KEEP=1 (leave the
# stack up at the end), PROOF_REBUILD_BASE=1 (make the Debian base again), PROOF_WEB_PORT
# (18080), PROOF_PROMETHEUS_PORT (19090), PROOF_GRAFANA_PORT (13000), PROOF_JAEGER_PORT (26686).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

time_steps "compose proof: "

export CONTAINERS_CONF=$PWD/deploy/proof/containers.conf
PROJECT=shopproof
BASE_IMAGE=localhost/shop-proof/debian:bookworm
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/shop-compose-proof
PODMAN_COMPOSE_VERSION=1.6.0
WORK=.run/compose-proof
mkdir -p "$WORK"
ENV_FILE=$WORK/proof.env
OVERRIDE=$WORK/compose.proof.yml
WEB_URL=http://127.0.0.1:${PROOF_WEB_PORT:-18080}
PROM_URL=http://127.0.0.1:${PROOF_PROMETHEUS_PORT:-19090}
SERVICES=(mariadb rabbitmq admin-api admin-consumer main-api main-consumer web prometheus mysqld-exporter jaeger)
NOT_RUN=(grafana)

container_of() { podman ps -a --filter "label=io.podman.compose.project=$PROJECT" \
  --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -1; }
# A bound on every command that could wait on something: timeout SECONDS COMMAND...
t() { timeout --kill-after=10 "$@"; }
STACK_UP=0
die() {
  if [ "$STACK_UP" = 1 ]; then
    local svc c
    for svc in "${SERVICES[@]}"; do
      c=$(container_of "$svc")
      [ -n "$c" ] || continue
      log "$svc: last lines"
      podman logs --tail 12 "$c" 2>&1 | cut -c1-400 >&2
    done
  fi
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
# podman-compose on this project: "${pc[@]}" COMMAND…
pc=("$PC" -p "$PROJECT" --env-file "$ENV_FILE" -f docker-compose.yml -f "$OVERRIDE")
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
build_substitute mysqld-exporter mysqld-exporter "$(official_image mysqld-exporter)"
build_substitute web nginx "docker.io/nginxinc/nginx-unprivileged (web's base)"
log "building localhost/shop-proof/otlp-sink:latest in place of $(official_image jaeger)"
t 900 podman build -q --pull=never --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -f deploy/proof/otlp-sink.Dockerfile -t localhost/shop-proof/otlp-sink:latest deploy/proof > /dev/null \
  || die "building the OTLP sink failed"
SUBSTITUTED+=("jaeger: $(official_image jaeger) -> localhost/shop-proof/otlp-sink:latest (an OTLP/HTTP sink on Jaeger's ports, not Jaeger: no trace store or UI)")

# ---------------------------------------------------------------------------------------
step "our images: shop/admin, shop/main, shop/web (runtime stages of deploy/*.Dockerfile)"
profile=${PROOF_PROFILE:-}
if [ -z "$profile" ]; then
  profile=debug
  if [ -x target/release/admin-api ] && [ target/release/admin-api -nt target/debug/admin-api ]; then profile=release; fi
fi
for bin in admin-api admin-consumer main-api main-consumer; do
  [ "${PROOF_FULL_BUILD:-0}" = 1 ] || [ -x "target/$profile/$bin" ] || die "target/$profile/$bin is missing: cargo build --workspace --bins --locked${profile/debug/} first"
done
[ -f frontend/dist/index.html ] || build_frontend
rm -rf .prebuilt && mkdir -p .prebuilt/bin
if [ "${PROOF_FULL_BUILD:-0}" != 1 ]; then
  for bin in admin-api admin-consumer main-api main-consumer; do
    strip --strip-debug -o ".prebuilt/bin/$bin" "target/$profile/$bin"
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
step "podman-compose config (and a missing variable named)"
rand() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 20; }
: > "$ENV_FILE"
chmod 600 "$ENV_FILE"
# .env.example's variables, each placeholder replaced by a new random password.
while IFS='=' read -r var value; do
  case $value in change-me*) value=$(rand) ;; esac
  printf '%s=%s\n' "$var" "$value" >> "$ENV_FILE"
done < <(grep -E '^[A-Z_]+=' .env.example)
cat >> "$ENV_FILE" <<EOF
SHOP_IMAGE_PREFIX=localhost/shop
SHOP_TAG=proof
SHOP_PUBLISH_ADDRESS=127.0.0.1
WEB_PORT=${PROOF_WEB_PORT:-18080}
PROMETHEUS_PORT=${PROOF_PROMETHEUS_PORT:-19090}
GRAFANA_PORT=${PROOF_GRAFANA_PORT:-13000}
JAEGER_UI_PORT=${PROOF_JAEGER_PORT:-26686}
SHOP_ENVIRONMENT=compose-proof
EOF
# Images the proof substitutes; nothing else differs from docker-compose.yml.
cat > "$OVERRIDE" <<EOF
services:
  mariadb:
    image: localhost/shop-proof/mariadb:latest
  rabbitmq:
    image: localhost/shop-proof/rabbitmq:latest
  prometheus:
    image: localhost/shop-proof/prometheus:latest
  mysqld-exporter:
    image: localhost/shop-proof/mysqld-exporter:latest
  jaeger:
    image: localhost/shop-proof/otlp-sink:latest
EOF
t 60 "$PC" --env-file "$ENV_FILE" -f docker-compose.yml config > "$WORK/config.yml" 2> "$WORK/config.err" \
  || { cat "$WORK/config.err"; die "podman-compose config failed"; }
grep -v '^RABBITMQ_PASSWORD=' "$ENV_FILE" > "$WORK/missing.env"
if t 60 "$PC" --env-file "$WORK/missing.env" -f docker-compose.yml config > /dev/null 2> "$WORK/missing.err"; then
  die "podman-compose config passed without RABBITMQ_PASSWORD"
fi
grep -q 'RABBITMQ_PASSWORD is missing a value: set RABBITMQ_PASSWORD in .env' "$WORK/missing.err" \
  || { tail -3 "$WORK/missing.err"; die "the error does not name RABBITMQ_PASSWORD"; }
log "config passes; without RABBITMQ_PASSWORD: $(grep -o 'required variable.*' "$WORK/missing.err")"

# ---------------------------------------------------------------------------------------
step "up: ${SERVICES[*]}"
teardown() {
  if [ "${PROOF_KEEP:-0}" = 1 ]; then log "PROOF_KEEP=1: the stack stays up (project $PROJECT)"; return; fi
  log "down -v"
  t 180 "${pc[@]}" down -v -t 20 \
    > "$WORK/down.log" 2>&1 || log "down -v failed (see $WORK/down.log)"
}
# A previous run's leftovers (an interrupted proof) go first.
t 180 "${pc[@]}" down -v -t 5 > "$WORK/down-before.log" 2>&1 || true
on_exit teardown
STACK_UP=1
t 600 "${pc[@]}" up -d --no-build "${SERVICES[@]}" > "$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log"; die "up failed"; }

# ---------------------------------------------------------------------------------------
step "every service healthy"
# Podman schedules healthchecks with systemd timers, and there is no systemd here: the proof
# runs each container's own healthcheck (the compose file's test) itself until it passes.
declare -A healthy_after=()
deadline=$((SECONDS + 300))
while :; do
  pending=()
  for svc in "${SERVICES[@]}"; do
    [ -n "${healthy_after[$svc]:-}" ] && continue
    c=$(container_of "$svc")
    if [ -n "$c" ] && t 30 podman healthcheck run "$c" >/dev/null 2>&1; then
      healthy_after[$svc]=$SECONDS
    else
      pending+=("$svc")
    fi
  done
  [ ${#pending[@]} -eq 0 ] && break
  if [ $SECONDS -ge $deadline ]; then
    for svc in "${pending[@]}"; do
      c=$(container_of "$svc"); log "$svc ($c) is not healthy; its last lines:"
      [ -n "$c" ] && podman logs --tail 20 "$c" 2>&1 | cut -c1-300 >&2
    done
    die "not healthy within 300 s: ${pending[*]}"
  fi
  sleep 2
done
for svc in "${SERVICES[@]}"; do printf '  %-16s healthy\n' "$svc" >&2; done

# ---------------------------------------------------------------------------------------
step "both flows through the web server ($WEB_URL)"
api() { t 20 curl -sS -o "$WORK/body" -w '%{http_code}' "$@"; }
expect() { # expected-status description curl-args...
  local want=$1 what=$2 got; shift 2
  got=$(api "$@") || die "$what: curl failed"
  [ "$got" = "$want" ] || { cat "$WORK/body" >&2; die "$what: HTTP $got, wanted $want"; }
}
expect 200 "the gallery page" "$WEB_URL/"
grep -q '<div id="root">' "$WORK/body" || die "the gallery page is not the app"
# The first admin, as an operator makes one (docs/operating/compose.md): create-user in the
# admin-api container.
ADMIN_EMAIL=proof@example.com
ADMIN_PASSWORD=$(rand)
t 60 podman exec -e ADMIN_PASSWORD="$ADMIN_PASSWORD" "$(container_of admin-api)" \
  admin-api create-user --name "Proof Admin" --email "$ADMIN_EMAIL" > "$WORK/create-user.out" 2> "$WORK/create-user.err" \
  || { cat "$WORK/create-user.err"; die "admin-api create-user failed"; }
log "admin-api create-user: id $(cat "$WORK/create-user.out")"
jar=$WORK/admin.cookies shopper=$WORK/shopper.cookies
rm -f "$jar" "$shopper"
expect 200 "sign-in" -c "$jar" -X POST "$WEB_URL/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$ADMIN_EMAIL\", \"password\": \"$ADMIN_PASSWORD\"}"
expect 401 "a product without a session" -X POST "$WEB_URL/api/products" -H 'Content-Type: application/json' \
  -d '{"title": "No", "image": "/x.png"}'
title="Proof mug $(date +%s)"
expect 201 "the admin creates a product" -b "$jar" -X POST "$WEB_URL/api/products" \
  -H 'Content-Type: application/json' -d "{\"title\": \"$title\", \"image\": \"https://example.com/mug.png\"}"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/body")
log "product $id created"
wait_until() { # seconds description command...: until the command succeeds
  local limit=$1 what=$2 end; shift 2
  end=$((SECONDS + limit))
  until "$@"; do [ $SECONDS -lt $end ] || die "$what within $limit s"; sleep 0.5; done
}
shop_lists() { api "$WEB_URL/flask/api/products" >/dev/null && python3 - "$WORK/body" "$id" "$title" <<'EOF'
import json, sys
products = json.load(open(sys.argv[1]))
sys.exit(0 if any(p["id"] == int(sys.argv[2]) and p["title"] == sys.argv[3] for p in products) else 1)
EOF
}
wait_until 30 "the shop does not list the product" shop_lists
log "the shop lists it"
expect 200 "a shopper likes it" -c "$shopper" -b "$shopper" -X POST "$WEB_URL/flask/api/products/$id/like"
expect 400 "the same shopper likes it again" -c "$shopper" -b "$shopper" -X POST "$WEB_URL/flask/api/products/$id/like"
api_ok() { [ "$(api "$1" 2>/dev/null)" = 200 ]; }
likes_are() { api_ok "$WEB_URL/api/products/$id" &&
  [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["likes"])' "$WORK/body")" = "$1" ]; }
wait_until 60 "the catalogue does not count the like" likes_are 1
log "the catalogue counts it: likes = 1"
expect 200 "the shopper's likes" -b "$shopper" "$WEB_URL/flask/api/likes"
[ "$(tr -d ' \n' < "$WORK/body")" = "[$id]" ] || die "GET /flask/api/likes: $(cat "$WORK/body")"

# ---------------------------------------------------------------------------------------
step "Prometheus (the container) scrapes every target up"
targets_up() {
  api "$PROM_URL/api/v1/targets?state=active" >/dev/null && python3 - "$WORK/body" <<'EOF'
import json, sys
targets = json.load(open(sys.argv[1]))["data"]["activeTargets"]
want = {"admin-api", "admin-consumer", "main-api", "main-consumer", "rabbitmq", "mysqld-exporter", "prometheus"}
up = {t["labels"]["job"] for t in targets if t["health"] == "up"}
jobs = {t["labels"]["job"] for t in targets}
if jobs != want or up != want:
    print("  not yet up:", ", ".join(sorted(want - up)) or "-", "| unexpected:", ", ".join(sorted(jobs - want)) or "-", file=sys.stderr)
    sys.exit(1)
EOF
}
wait_until 60 "Prometheus does not see every target up" targets_up
api "$PROM_URL/api/v1/query?query=mysql_up" >/dev/null
grep -q '"value":\[[0-9.]*,"1"\]' "$WORK/body" || die "mysql_up is not 1: $(cat "$WORK/body")"
api "$PROM_URL/api/v1/rules" >/dev/null
grep -q '"name":"ShopTargetDown"' "$WORK/body" || die "the alert rules are not loaded"
log "7 jobs up, mysql_up 1, alert rules loaded"

# ---------------------------------------------------------------------------------------
step "traces: the four processes export OTLP to the trace backend's address"
# The stand-in counts the exports that name each process (GET /stats on the UI's port).
spans_from_all() {
  api "http://127.0.0.1:${PROOF_JAEGER_PORT:-26686}/stats" >/dev/null 2>&1 && python3 - "$WORK/body" <<'EOF'
import json, sys
by = json.load(open(sys.argv[1]))["by_service"]
sys.exit(0 if all(n > 0 for n in by.values()) else 1)
EOF
}
wait_until 60 "not every process exported spans" spans_from_all
log "exports received: $(cat "$WORK/body")"

# ---------------------------------------------------------------------------------------
step "operator: database dump (mariadb-dump in the mariadb container)"
t 120 podman exec "$(container_of mariadb)" sh -c \
  'exec mariadb-dump -uroot -p"$MARIADB_ROOT_PASSWORD" --single-transaction --databases admin main' \
  > "$WORK/backup.sql" 2> "$WORK/backup.err" || { cat "$WORK/backup.err"; die "mariadb-dump failed"; }
grep -q "$title" "$WORK/backup.sql" || die "the dump does not hold the product"
log "dump of admin and main: $(wc -c < "$WORK/backup.sql") bytes"

# ---------------------------------------------------------------------------------------
step "the database away: the APIs say so (503), keep running, and recover"
t 60 podman stop -t 30 "$(container_of mariadb)" > /dev/null 2>&1 || die "stopping mariadb failed"
status_is() { [ "$(api "$1" 2>/dev/null)" = "$2" ]; }
wait_until 30 "the catalogue's health does not say 503 without its database" status_is "$WEB_URL/api/health" 503
grep -q 'database: not reachable' "$WORK/body" || die "the health answer does not name the database: $(cat "$WORK/body")"
wait_until 30 "the shop's health does not say 503 without its database" status_is "$WEB_URL/flask/api/health" 503
for svc in admin-api main-api admin-consumer main-consumer; do
  [ "$(podman inspect --format '{{.State.Running}}' "$(container_of "$svc")")" = true ] || die "$svc stopped without its database"
done
t 60 podman start "$(container_of mariadb)" > /dev/null 2>&1 || die "starting mariadb failed"
wait_until 90 "the catalogue does not recover" api_ok "$WEB_URL/api/health"
wait_until 90 "the shop does not recover" api_ok "$WEB_URL/flask/api/health"
log "503 naming the database while it was away, every process still running, healthy again after"

# ---------------------------------------------------------------------------------------
step "graceful stop: no accepted like lost"
# Likes by new shoppers go on while the APIs and consumers stop (SIGTERM, within the stop
# grace period) and start again; every like that got 200 must be counted in the end.
like_loop() {
  local n=0 ok=0 code
  while [ -e "$WORK/liking" ] && [ $n -lt 2000 ]; do
    code=$(t 10 curl -s -o /dev/null -w '%{http_code}' -X POST "$WEB_URL/flask/api/products/$id/like" || true)
    [ "$code" = 200 ] && ok=$((ok + 1))
    n=$((n + 1))
    sleep 0.1
  done
  echo "$ok" > "$WORK/likes-accepted"
}
touch "$WORK/liking"
like_loop &
liker=$!
sleep 2
stop_started=$SECONDS
t 120 "${pc[@]}" stop -t 20 main-api main-consumer admin-consumer admin-api > "$WORK/stop.log" 2>&1 \
  || { tail -20 "$WORK/stop.log"; die "stop failed"; }
stop_took=$((SECONDS - stop_started))
for svc in admin-api admin-consumer main-api main-consumer; do
  code=$(podman inspect --format '{{.State.ExitCode}}' "$(container_of "$svc")")
  [ "$code" = 0 ] || die "$svc exited with $code on SIGTERM (not a graceful stop)"
done
log "the four processes stopped with exit code 0 in $stop_took s"
# nginx resolves the APIs' names when it starts, and a container started again may get
# another address: the web server is restarted after them, as `docker compose stop` and
# `start` of the whole stack would do.
t 60 "${pc[@]}" stop -t 15 web >> "$WORK/stop.log" 2>&1 || { tail -20 "$WORK/stop.log"; die "stop failed"; }
# (podman-compose start fails here: podman 4.3 refuses to start a container whose
# dependencies' dependencies are not in the same command. All of the project's containers in
# one `podman start` works; the running ones are left as they are.)
mapfile -t all < <(podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}')
t 120 podman start "${all[@]}" > "$WORK/start.log" 2>&1 || { tail -20 "$WORK/start.log"; die "start failed"; }
wait_until 120 "the shop is not back" api_ok "$WEB_URL/flask/api/health"
wait_until 120 "the catalogue is not back" api_ok "$WEB_URL/api/health"
sleep 2
rm -f "$WORK/liking"
wait "$liker"
accepted=$(cat "$WORK/likes-accepted")
# +1: the first shopper's like above.
wait_until 120 "the catalogue does not count all $((accepted + 1)) accepted likes" likes_are $((accepted + 1))
log "$accepted likes accepted around the stop, all $((accepted + 1)) counted by the catalogue"

# ---------------------------------------------------------------------------------------
step "Grafana (not run here) and Jaeger's settings, statically"
"$CACHE/venv/bin/python" - <<'EOF'
import glob, json, sys
import yaml
cfg = yaml.safe_load(open(".run/compose-proof/config.yml"))
svc = cfg["services"]
def mounts(name):
    return {v.split(":")[1]: v.split(":")[0] for v in svc[name].get("volumes", []) if isinstance(v, str)}
g = mounts("grafana")
prov, dash = g["/etc/grafana/provisioning"], g["/var/lib/grafana/dashboards/shop"]
ds = yaml.safe_load(open(f"{prov}/datasources/prometheus.yml"))["datasources"]
assert [d["uid"] for d in ds] == ["prometheus"], ds
url = ds[0]["url"]
assert url == "http://prometheus:9090", url
providers = yaml.safe_load(open(f"{prov}/dashboards/shop.yml"))["providers"]
assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards/shop", providers
files = sorted(glob.glob(f"{dash}/*.json"))
assert files, "no dashboards"
for f in files:
    def walk(panels):
        for p in panels:
            for x in [p] + p.get("targets", []):
                uid = (x.get("datasource") or {}).get("uid")
                assert uid in (None, "prometheus"), (f, p.get("title"), uid)
            walk(p.get("panels", []))
    walk(json.load(open(f)).get("panels", []))
j = svc["jaeger"]["environment"]
assert j["COLLECTOR_OTLP_ENABLED"] == "true", j
for name in ("admin-api", "admin-consumer", "main-api", "main-consumer"):
    assert svc[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318", name
assert svc["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
print(f"  grafana: data source uid prometheus -> {url} (a compose service), "
      f"dashboard provider -> the mounted folder, {len(files)} dashboards parse", file=sys.stderr)
print("  jaeger: OTLP enabled; the four processes export to http://jaeger:4318", file=sys.stderr)
EOF

end_step
log "substituted: the official images no registry here can give"
printf '  %s\n' "${SUBSTITUTED[@]}" >&2
log "not run here (in no registry this machine reaches; their configuration checked statically): ${NOT_RUN[*]}"
log "compose proof passed"
