# shellcheck shell=bash
# Sourced by the scripts that need the whole shop running on the side (browser tests,
# benchmarks): scripts/run-local.sh in the background with its own ports, databases and
# queues, stopped and cleaned up when the calling script exits (an exit hook: see on_exit in
# services.sh; the caller's own EXIT trap is kept).

# start_isolated_stack NAME BASE_PORT: ports BASE_PORT+0 (admin), +1 (admin consumer),
# +10 (main), +11 (main consumer), +80 (web); databases and queues named NAME_<pid>. Waits
# until nginx, both APIs and both consumers answer healthy. Log: .run/NAME-stack.log.
# Exports the first admin's ADMIN_EMAIL and ADMIN_PASSWORD (random), and ADMIN_TOKEN, an API
# token for scripted catalogue writes (curl -H "Authorization: Bearer $ADMIN_TOKEN").
start_isolated_stack() {
  local name=$1 base=$2 id=$$
  export ADMIN_PORT=$base ADMIN_CONSUMER_PORT=$((base + 1))
  export MAIN_PORT=$((base + 10)) MAIN_CONSUMER_PORT=$((base + 11)) WEB_PORT=$((base + 80))
  export ADMIN_DATABASE=${name}_admin_$id MAIN_DATABASE=${name}_main_$id
  export MAIN_QUEUE=$name-main-$id ADMIN_QUEUE=$name-admin-$id
  # Its own database users: another stack's start would reset shared ones' passwords.
  export DB_USER_PREFIX=${name}_${id}_
  export RUST_LOG=${RUST_LOG:-warn}
  export ADMIN_EMAIL=${ADMIN_EMAIL:-admin@example.com}
  export ADMIN_PASSWORD=${ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)}
  mkdir -p .run
  stack_log=.run/$name-stack.log
  log "starting the stack (log: $stack_log)"
  bash scripts/run-local.sh > "$stack_log" 2>&1 &
  stack_pid=$!
  on_exit stop_isolated_stack

  local web=http://127.0.0.1:$WEB_PORT i
  for ((i = 0; i < 600; i++)); do
    if curl -fsS "$web/" >/dev/null 2>&1 && curl -fsS "$web/api/health" >/dev/null 2>&1 \
       && curl -fsS "$web/flask/api/health" >/dev/null 2>&1 \
       && curl -fsS "http://127.0.0.1:$MAIN_CONSUMER_PORT/health" >/dev/null 2>&1 \
       && curl -fsS "http://127.0.0.1:$ADMIN_CONSUMER_PORT/health" >/dev/null 2>&1; then
      local profile=debug
      [ "${RELEASE:-0}" = 1 ] && profile=release
      ADMIN_TOKEN=$(DATABASE_URL='' SQL_HOST=$MARIADB_HOST SQL_PORT=$MARIADB_PORT \
        SQL_DATABASE=$ADMIN_DATABASE RUST_LOG=warn \
        "${CARGO_TARGET_DIR:-target}/$profile/admin-api" create-token --name "$name-$id")
      export ADMIN_TOKEN
      return 0
    fi
    if ! kill -0 "$stack_pid" 2>/dev/null; then
      tail -40 "$stack_log"; log "the stack exited before it was ready"; return 1
    fi
    sleep 0.5
  done
  tail -40 "$stack_log"; log "the stack is not healthy after 5 minutes"; return 1
}

stop_isolated_stack() {
  kill -TERM "$stack_pid" 2>/dev/null || true
  wait "$stack_pid" 2>/dev/null || true
  mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" \
    -e "DROP DATABASE IF EXISTS $ADMIN_DATABASE; DROP DATABASE IF EXISTS $MAIN_DATABASE" 2>/dev/null || true
  local u
  for u in admin_api admin_consumer main_api main_consumer; do
    mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" \
      -e "DROP USER IF EXISTS '${DB_USER_PREFIX}$u'@'%'" 2>/dev/null || true
  done
  local q
  for q in "$MAIN_QUEUE" "$ADMIN_QUEUE"; do
    rabbitmqctl -q delete_queue "$q" >/dev/null 2>&1 || true
    rabbitmqctl -q delete_queue "$q.dead-letter" >/dev/null 2>&1 || true
    delete_exchange "$q.changes"
  done
}

# delete_exchange NAME: deletes an exchange of the default vhost if it is there (the APIs'
# change-notice exchanges, `<queue>.changes`). rabbitmqctl has no command for it; errors
# are ignored.
delete_exchange() {
  rabbitmqctl -q eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$1\">>), false, <<\"shop-scripts\">>)." \
    >/dev/null 2>&1 || true
}
