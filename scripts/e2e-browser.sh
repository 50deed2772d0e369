#!/usr/bin/env bash
# Browser end-to-end tests: the whole shop (scripts/run-local.sh, on its own ports, databases
# and queues) behind nginx, driven by Debian's Chromium through playwright-core, signed in as
# the stack's first admin. Screenshots of each page land in frontend/e2e/screenshots/.
#
# Three stories, one after the other on one stack: the shop's story (shop.e2e.test.ts: a product
# made, shown, liked, edited, deleted), the admin console's (console.e2e.test.ts: a viewer
# added through a one-time link who can change nothing, a bulk delete seen in Recent actions,
# an edit conflict between two browsers), then E2E_PRODUCTS (10,000) products are added straight
# into both databases (scripts/seed-catalogue.sh) and the catalogue's story at that size runs
# (scale.e2e.test.ts: search, pages, sort, shared links, live likes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
source scripts/stack.sh
source scripts/seed-catalogue.sh

ensure_services
ensure_nginx
ensure_chromium
ensure_node_modules frontend

start_isolated_stack e2e 18100
base=http://127.0.0.1:$WEB_PORT
log "browser tests against $base"
# The story signs in as the stack's first admin (start_isolated_stack exports its email and
# its random password).
story() {
  (cd frontend && E2E_STORY=$(basename "$1" .e2e.test.ts) E2E_BASE_URL=$base CHROMIUM_PATH=/usr/bin/chromium \
    E2E_ADMIN_EMAIL=$ADMIN_EMAIL E2E_ADMIN_PASSWORD=$ADMIN_PASSWORD npm run --silent test:e2e -- "$@")
}
story e2e/shop.e2e.test.ts
story e2e/console.e2e.test.ts
products=${E2E_PRODUCTS:-10000}
log "$products products added straight into both databases"
seed_catalogue "$products"
E2E_PRODUCTS=$products story e2e/scale.e2e.test.ts
