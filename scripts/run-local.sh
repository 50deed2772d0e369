#!/usr/bin/env bash
# Runs the whole shop locally against this machine's MariaDB and RabbitMQ (started if
# needed): builds the services and the web UI, creates and migrates both databases, creates
# an admin user, and runs both HTTP services, both consumers and nginx (serving the UI on
# WEB_PORT, default 8080) in the foreground with prefixed logs.
# Ctrl-C stops all of them; if one exits, the others are stopped too.
#
#   RELEASE=1 scripts/run-local.sh   # optimised build (slower to build, faster to run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

ensure_services
ensure_nginx

profile=debug; cargo_flags=()
if [ "${RELEASE:-0}" = 1 ]; then profile=release; cargo_flags=(--release); fi
log "building ($profile)"
cargo build --locked "${cargo_flags[@]}" --bins
# CARGO_TARGET_DIR: the test command's instrumented build (scripts/coverage.sh).
bin=${CARGO_TARGET_DIR:-target}/$profile
# BUILD_FRONTEND=0 reuses frontend/dist (the test command has just built it).
if [ "${BUILD_FRONTEND:-1}" = 1 ] || [ ! -f frontend/dist/index.html ]; then build_frontend; fi

# Two services, two databases: configured with SQL_* and SQL_DATABASE per process. A
# DATABASE_URL in the environment would send both to one database, so it is not used here.
unset DATABASE_URL
export SQL_HOST=${SQL_HOST:-$MARIADB_HOST} SQL_PORT=${SQL_PORT:-$MARIADB_PORT}
export AMQP_URL=${AMQP_URL:-$DEFAULT_AMQP_URL}

admin_db=${ADMIN_DATABASE:-admin}
main_db=${MAIN_DATABASE:-main}

# Each process logs in as its own database user with only its own rights
# (scripts/grants.sql): admin_api, admin_consumer, main_api, main_consumer, with new random
# passwords at every start. DB_USER_PREFIX goes before each name, so that stacks running at
# the same time (benchmarks, tests) do not reset each other's passwords. DB_USERS=0 runs
# everything as SQL_USER (root) instead.
declare -A db_user db_password
if [ "${DB_USERS:-1}" = 1 ]; then
  log "creating the services' database users (scripts/grants.sql)"
  for svc in admin main; do
    database=${svc}_db
    for role in api consumer; do
      db_user[$svc-$role]=${DB_USER_PREFIX:-}${svc}_$role
      db_password[$svc-$role]=$(openssl rand -hex 16)
    done
    sed -e "s/{database}/$(printf '%s' "${!database}" | sed 's/[_%]/\\\\&/g')/g" \
        -e "s/{api_user}/${db_user[$svc-api]}/g" -e "s/{api_password}/${db_password[$svc-api]}/g" \
        -e "s/{consumer_user}/${db_user[$svc-consumer]}/g" \
        -e "s/{consumer_password}/${db_password[$svc-consumer]}/g" scripts/grants.sql |
      mariadb -h "$SQL_HOST" -P "$SQL_PORT" -u "${SQL_USER:-root}" ${SQL_PASSWORD:+"-p$SQL_PASSWORD"}
  done
fi
# as SVC ROLE COMMAND...: runs COMMAND with that process's database and user.
as() {
  local svc=$1 role=$2 database=${1}_db; shift 2
  if [ "${DB_USERS:-1}" = 1 ]; then
    SQL_DATABASE=${!database} SQL_USER=${db_user[$svc-$role]} \
      SQL_PASSWORD=${db_password[$svc-$role]} "$@"
  else
    SQL_DATABASE=${!database} "$@"
  fi
}

log "creating and migrating databases $admin_db and $main_db"
as admin api "$bin/admin-api" migrate
as main api "$bin/main-api" migrate
# The first admin: ADMIN_EMAIL (default admin@example.com) with ADMIN_PASSWORD, or, when
# that is not set, a random password printed here once (for a user this run creates).
admin_email=${ADMIN_EMAIL:-admin@example.com}
generated=
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
  generated=1
fi
user_out=$(RUST_LOG=info LOG_FORMAT=json ADMIN_PASSWORD=$ADMIN_PASSWORD \
  as admin api "$bin/admin-api" create-user --name "${ADMIN_NAME:-Admin}" --email "$admin_email" 2>&1)
user_id=$(printf '%s
' "$user_out" | grep -E '^[0-9]+$' | tail -1)
if printf '%s' "$user_out" | grep -q '"new":true'; then
  if [ -n "$generated" ]; then
    log "admin $admin_email created with password: $ADMIN_PASSWORD   (shown once; change it with: admin-api set-password --email $admin_email)"
  else
    log "admin $admin_email created (id $user_id) with ADMIN_PASSWORD"
  fi
else
  log "admin $admin_email exists (id $user_id); its password is unchanged (admin-api set-password to change it)"
fi
unset ADMIN_PASSWORD

pids=()
stopping=0
# shellcheck disable=SC2317 # run by the trap below
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM EXIT
  log "stopping"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# start NAME COMMAND...: runs a process with its log lines prefixed by NAME.
start() {
  local name=$1; shift
  # The prefixer ignores Ctrl-C so it prints the services' last lines as they stop.
  "$@" > >(trap '' INT; exec sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}

PORT=$ADMIN_PORT as admin api start admin-api "$bin/admin-api" serve
PORT=$ADMIN_CONSUMER_PORT as admin consumer start admin-consumer "$bin/admin-consumer"
PORT=$MAIN_PORT as main api start main-api "$bin/main-api" serve
PORT=$MAIN_CONSUMER_PORT as main consumer start main-consumer "$bin/main-consumer"
render_nginx "$PWD/.run/nginx" "$WEB_PORT" "127.0.0.1:$ADMIN_PORT" "127.0.0.1:$MAIN_PORT"
start nginx nginx -p "$PWD/.run/nginx" -c nginx.conf -g 'daemon off;'

log "the shop:      http://127.0.0.1:$WEB_PORT/   (admin: /admin/products)"
log "catalogue API: http://127.0.0.1:$ADMIN_PORT/api/products   (docs /api/docs)"
log "shop API:      http://127.0.0.1:$MAIN_PORT/flask/api/products   (docs /flask/api/docs)"
log "Ctrl-C stops everything"
# If any process exits, stop the others too, and report its status.
set +e
wait -n "${pids[@]}"
status=$?
[ "$stopping" = 1 ] && exit 0
log "a process exited (status $status); stopping the others"
exit "$status"
