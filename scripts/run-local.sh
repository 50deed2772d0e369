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
bin=target/$profile
# BUILD_FRONTEND=0 reuses frontend/dist (the test command has just built it).
if [ "${BUILD_FRONTEND:-1}" = 1 ] || [ ! -f frontend/dist/index.html ]; then build_frontend; fi

# Two services, two databases: configured with SQL_* and SQL_DATABASE per process. A
# DATABASE_URL in the environment would send both to one database, so it is not used here.
unset DATABASE_URL
export SQL_HOST=${SQL_HOST:-$MARIADB_HOST} SQL_PORT=${SQL_PORT:-$MARIADB_PORT}
export AMQP_URL=${AMQP_URL:-$DEFAULT_AMQP_URL}

admin_db=${ADMIN_DATABASE:-admin}
main_db=${MAIN_DATABASE:-main}
log "creating and migrating databases $admin_db and $main_db"
SQL_DATABASE=$admin_db "$bin/admin-api" migrate
SQL_DATABASE=$main_db "$bin/main-api" migrate
# The first admin: ADMIN_EMAIL (default admin@example.com) with ADMIN_PASSWORD, or, when
# that is not set, a random password printed here once (for a user this run creates).
admin_email=${ADMIN_EMAIL:-admin@example.com}
generated=
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
  generated=1
fi
user_out=$(SQL_DATABASE=$admin_db RUST_LOG=info LOG_FORMAT=json ADMIN_PASSWORD=$ADMIN_PASSWORD \
  "$bin/admin-api" create-user --name "${ADMIN_NAME:-Admin}" --email "$admin_email" 2>&1)
user_id=$(printf '%s\n' "$user_out" | grep -E '^[0-9]+$' | tail -1)
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

SQL_DATABASE=$admin_db PORT=$ADMIN_PORT start admin-api "$bin/admin-api" serve
SQL_DATABASE=$admin_db PORT=$ADMIN_CONSUMER_PORT start admin-consumer "$bin/admin-consumer"
SQL_DATABASE=$main_db PORT=$MAIN_PORT start main-api "$bin/main-api" serve
SQL_DATABASE=$main_db PORT=$MAIN_CONSUMER_PORT start main-consumer "$bin/main-consumer"
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
