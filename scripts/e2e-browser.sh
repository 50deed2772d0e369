#!/usr/bin/env bash
# Browser end-to-end tests: the whole shop (scripts/run-local.sh, on its own ports, databases
# and queues) behind nginx, driven by Debian's Chromium through playwright-core, signed in as
# the stack's first admin. Screenshots of each page land in frontend/e2e/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/stack.sh

ensure_services
ensure_nginx
ensure_chromium
ensure_node_modules frontend

start_isolated_stack e2e 18100
base=http://127.0.0.1:$WEB_PORT
log "browser tests against $base"
# The story signs in as the stack's first admin (start_isolated_stack exports its email and
# its random password).
(cd frontend && E2E_BASE_URL=$base CHROMIUM_PATH=/usr/bin/chromium \
  E2E_ADMIN_EMAIL=$ADMIN_EMAIL E2E_ADMIN_PASSWORD=$ADMIN_PASSWORD npm run --silent test:e2e)
