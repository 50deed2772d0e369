# shellcheck shell=bash
# Sourced by every script: the shared defaults (defaults.sh), logging, exit hooks, and
# ensure_services, which makes sure MariaDB and RabbitMQ run on this machine, installing them
# from Debian's packages and starting them when they are not. Honours MARIADB_HOST/MARIADB_PORT
# and RABBITMQ_HOST/RABBITMQ_PORT for remote services (then nothing is installed or started).

# shellcheck source=scripts/defaults.sh
source "$(dirname "${BASH_SOURCE[0]}")/defaults.sh"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# on_exit COMMAND: runs COMMAND (a function or a command line) when the script exits, the
# last registered first, each whatever the others did; the exit status stays the script's.
# Helpers register their clean-ups here rather than setting an EXIT trap, which would replace
# their caller's. An EXIT trap the script set before is kept and runs last; a script that
# wants one afterwards registers it here too.
exit_hooks=()
on_exit() {
  local current
  current=$(trap -p EXIT)
  if [ -n "$current" ] && [ "$current" != "trap -- 'run_exit_hooks' EXIT" ]; then
    current=${current#trap -- }
    eval "exit_hooks+=(${current% EXIT})"
  fi
  exit_hooks=("$1" ${exit_hooks[@]+"${exit_hooks[@]}"})
  trap run_exit_hooks EXIT
}

run_exit_hooks() {
  local hook
  for hook in ${exit_hooks[@]+"${exit_hooks[@]}"}; do eval "$hook" || true; done
  exit_hooks=()
}

# time_steps [PREFIX]: from then on, `step NAME` logs PREFIX NAME and starts timing that part
# of the script; each part's time and the total are printed when the script exits.
time_steps() {
  step_prefix=${1:-} step_name='' step_start=$SECONDS
  step_times=()
  on_exit print_step_times
}
end_step() {
  [ -n "$step_name" ] && step_times+=("$(printf '%5d s  %s' $((SECONDS - step_start)) "$step_name")")
  step_name=
}
step() { end_step; step_name=$1 step_start=$SECONDS; log "$step_prefix$1"; }
print_step_times() {
  end_step
  log "${step_prefix}time per part"
  printf '%s\n' "${step_times[@]}" >&2
  log "${step_prefix}total: $SECONDS s"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() { # host port what seconds
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    port_open "$1" "$2" && return 0
    sleep 0.1
  done
  log "$3 did not come up on $1:$2 within $4 s"
  return 1
}

apt_install() {
  log "installing $*"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_mariadb() {
  if port_open "$MARIADB_HOST" "$MARIADB_PORT"; then return 0; fi
  if [ "$MARIADB_HOST" != 127.0.0.1 ] && [ "$MARIADB_HOST" != localhost ]; then
    log "MariaDB at $MARIADB_HOST:$MARIADB_PORT is not reachable"; return 1
  fi
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  log "starting MariaDB"
  if mkdir -p /run/mysqld; then chown mysql:mysql /run/mysqld 2>/dev/null || true; fi
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for_port "$MARIADB_HOST" "$MARIADB_PORT" MariaDB 60
}

ensure_rabbitmq() {
  if port_open "$RABBITMQ_HOST" "$RABBITMQ_PORT"; then return 0; fi
  if [ "$RABBITMQ_HOST" != 127.0.0.1 ] && [ "$RABBITMQ_HOST" != localhost ]; then
    log "RabbitMQ at $RABBITMQ_HOST:$RABBITMQ_PORT is not reachable"; return 1
  fi
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
  log "starting RabbitMQ"
  rabbitmq-server -detached
  wait_for_port "$RABBITMQ_HOST" "$RABBITMQ_PORT" RabbitMQ 120
  # The port opens before the broker accepts logins; wait until it has fully booted.
  rabbitmqctl -q await_startup >/dev/null 2>&1 || sleep 3
}

# What the credential and TLS tests need besides the servers: moto in server mode, the
# Secrets Manager API they read secrets from (on loopback; no test ever reaches AWS), from
# PyPI; and openssl, which makes their certificates.
# ensure_pinned_venv VENV PACKAGE VERSION: a Python venv at VENV holding PACKAGE==VERSION
# from PyPI, made again only when the pin (kept in VENV/.pins) changes.
ensure_pinned_venv() {
  local venv=$1 package=$2 version=$3
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  log "installing $package $version (PyPI) in $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
  echo "$version" > "$venv/.pins"
}

ensure_test_tools() {
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  ensure_moto
}

ensure_moto() {
  if command -v moto_server >/dev/null 2>&1 && python3 -c 'import moto.server' 2>/dev/null; then
    return 0
  fi
  log "installing moto[server] (pip)"
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]'
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  command -v moto_server >/dev/null
}

ensure_services() {
  ensure_mariadb
  ensure_rabbitmq
}
