# shellcheck shell=bash
# Sourced by the other scripts: the frontend's dependencies and build, nginx in front of the
# services, and the browser the end-to-end tests drive. Installs Debian's nginx and chromium
# when missing (never a browser download from npm).

# ensure_node_modules [DIR]: npm ci in DIR (default frontend) unless its node_modules is
# up to date with its lock file.
ensure_node_modules() {
  local dir=${1:-frontend}
  local lock=$dir/package-lock.json stamp=$dir/node_modules/.package-lock.json
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$stamp" ]; then
    log "npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

build_frontend() {
  ensure_node_modules frontend
  log "building the frontend"
  (cd frontend && npm run --silent build)
}

ensure_nginx() {
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    apt_install nginx-light || apt_install nginx
  fi
}

ensure_chromium() {
  # Debian's chromium pulls in no font: without one, pages render without text.
  if ! { [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -q .; }; then
    apt_install chromium fonts-dejavu-core
  fi
}

# render_nginx DIR PORT ADMIN_API MAIN_API: writes DIR/nginx.conf serving frontend/dist on
# PORT and proxying /api/ and /flask/ to the two APIs (host:port), with every path nginx
# writes to under DIR. Run it with: nginx -p DIR -c nginx.conf -g 'daemon off;'
render_nginx() {
  local dir=$1
  mkdir -p "$dir/logs" "$dir/tmp"
  export NGINX_PORT=$2 ADMIN_API=$3 MAIN_API=$4
  export STATIC_ROOT=$PWD/frontend/dist
  # Only our variables: nginx's own ($uri, $host…) must stay as they are.
  # shellcheck disable=SC2016 # envsubst's list of variables to replace, not expansions
  envsubst '${NGINX_PORT} ${STATIC_ROOT} ${ADMIN_API} ${MAIN_API}' \
    < frontend/nginx/default.conf.template > "$dir/default.conf"
  # frontend/nginx/local.conf.template: the frame the official image puts around conf.d,
  # with every path nginx writes to under DIR.
  # shellcheck disable=SC2016 # envsubst's list of variables to replace, not an expansion
  NGINX_PREFIX=$dir envsubst '${NGINX_PREFIX}' < frontend/nginx/local.conf.template > "$dir/nginx.conf"
  nginx -t -q -p "$dir" -c nginx.conf
}
