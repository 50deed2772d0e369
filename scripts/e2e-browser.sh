#!/usr/bin/env bash
# Browser end-to-end tests: the whole shop (scripts/run-local.sh, on its own ports, databases
# and queues) behind nginx, driven by Debian's Chromium through playwright-core. Screenshots
# of each page land in frontend/e2e/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh

ensure_services
ensure_nginx
ensure_chromium
ensure_node_modules

run_id=$$
export ADMIN_PORT=${E2E_ADMIN_PORT:-18100} ADMIN_CONSUMER_PORT=${E2E_ADMIN_CONSUMER_PORT:-18101}
export MAIN_PORT=${E2E_MAIN_PORT:-15100} MAIN_CONSUMER_PORT=${E2E_MAIN_CONSUMER_PORT:-15101}
export WEB_PORT=${E2E_WEB_PORT:-18180}
export ADMIN_DATABASE=e2e_admin_$run_id MAIN_DATABASE=e2e_main_$run_id
export MAIN_QUEUE=e2e-main-$run_id ADMIN_QUEUE=e2e-admin-$run_id
export RUST_LOG=${RUST_LOG:-warn}

mkdir -p .run
stack_log=.run/e2e-stack.log
log "starting the stack (log: $stack_log)"
bash scripts/run-local.sh > "$stack_log" 2>&1 &
stack=$!

cleanup() {
  kill -TERM "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
  mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT" \
    -e "DROP DATABASE IF EXISTS $ADMIN_DATABASE; DROP DATABASE IF EXISTS $MAIN_DATABASE" 2>/dev/null || true
  for q in "$MAIN_QUEUE" "$ADMIN_QUEUE"; do
    rabbitmqctl -q delete_queue "$q" >/dev/null 2>&1 || true
    rabbitmqctl -q delete_queue "$q.dead-letter" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

base=http://127.0.0.1:$WEB_PORT
for ((i = 0; i < 600; i++)); do
  if curl -fsS "$base/" >/dev/null 2>&1 && curl -fsS "$base/api/health" >/dev/null 2>&1 \
     && curl -fsS "$base/flask/api/health" >/dev/null 2>&1 \
     && curl -fsS "http://127.0.0.1:$MAIN_CONSUMER_PORT/health" >/dev/null 2>&1 \
     && curl -fsS "http://127.0.0.1:$ADMIN_CONSUMER_PORT/health" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$stack" 2>/dev/null; then
    tail -40 "$stack_log"; log "the stack exited before it was ready"; exit 1
  fi
  sleep 0.5
done
curl -fsS "$base/api/health" >/dev/null || { tail -40 "$stack_log"; log "the stack is not healthy"; exit 1; }

log "browser tests against $base"
(cd frontend && E2E_BASE_URL=$base CHROMIUM_PATH=/usr/bin/chromium npm run --silent test:e2e)
