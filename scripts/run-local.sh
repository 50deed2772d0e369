#!/usr/bin/env bash
# Runs the shop locally against this machine's MariaDB and RabbitMQ (started if needed):
# builds the services, creates and migrates their databases, creates an admin user, and
# runs every process in the foreground with prefixed logs. Ctrl-C stops all of them.
#
#   RELEASE=1 scripts/run-local.sh   # optimised build (slower to build, faster to run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_services

profile=debug; cargo_flags=()
if [ "${RELEASE:-0}" = 1 ]; then profile=release; cargo_flags=(--release); fi
log "building ($profile)"
cargo build --locked "${cargo_flags[@]}" --bin admin-api
bin=target/$profile

export SQL_HOST=${SQL_HOST:-$MARIADB_HOST} SQL_PORT=${SQL_PORT:-$MARIADB_PORT}
export AMQP_URL=${AMQP_URL:-amqp://guest:guest@${RABBITMQ_HOST}:${RABBITMQ_PORT}/%2f}

log "migrating the admin database"
SQL_DATABASE=${ADMIN_DATABASE:-admin} "$bin/admin-api" migrate
user_id=$(SQL_DATABASE=${ADMIN_DATABASE:-admin} RUST_LOG=warn "$bin/admin-api" create-user \
  --name "${ADMIN_NAME:-Admin}" --email "${ADMIN_EMAIL:-admin@example.com}")
log "admin user id $user_id (${ADMIN_EMAIL:-admin@example.com})"

pids=()
stop() {
  trap - INT TERM EXIT
  log "stopping"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# start NAME COMMAND...: runs a process with its log lines prefixed by NAME.
start() {
  local name=$1; shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}

SQL_DATABASE=${ADMIN_DATABASE:-admin} PORT=${ADMIN_PORT:-8000} start admin-api "$bin/admin-api" serve

log "admin API on http://127.0.0.1:${ADMIN_PORT:-8000}/api/products (docs: /api/docs); Ctrl-C stops"
# If any process exits, stop the others too, and report its status.
set +e
wait -n "${pids[@]}"
status=$?
log "a process exited (status $status)"
exit "$status"
