#!/bin/bash
# The official mariadb image's start, in short (proof stand-in): on an empty data directory,
# create the system tables, set the root password, create the healthcheck user, run
# /docker-entrypoint-initdb.d/* (*.sh sourced, or run when executable; *.sql piped in), stop
# the temporary server; then exec the server.
set -euo pipefail
datadir=/var/lib/mysql socket=/run/mysqld/mysqld.sock

# As the official image's: mariadb's own options may follow (the init scripts it sources may
# pass some).
# shellcheck disable=SC2120
docker_process_sql() {
  mariadb --protocol=socket --socket="$socket" -uroot \
    ${MARIADB_ROOT_PASSWORD:+--password="$MARIADB_ROOT_PASSWORD"} "$@"
}
sql_escape() { local s=${1//\\/\\\\}; printf '%s' "${s//\'/\\\'}"; }

if [ "${1:-}" = mariadbd ] && [ ! -d "$datadir/mysql" ]; then
  : "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD must be set}"
  echo "entrypoint: initialising $datadir"
  mariadb-install-db --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd --datadir="$datadir" --skip-networking --socket="$socket" &
  pid=$!
  for _ in $(seq 1 300); do
    mariadb-admin --protocol=socket --socket="$socket" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "entrypoint: the server died"; exit 1; }
    sleep 0.2
  done
  root=$(sql_escape "$MARIADB_ROOT_PASSWORD")
  health=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mariadb --protocol=socket --socket="$socket" -uroot <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root';
CREATE USER 'root'@'%' IDENTIFIED BY '$root';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE USER 'healthcheck'@'localhost' IDENTIFIED BY '$health';
GRANT USAGE ON *.* TO 'healthcheck'@'localhost';
SQL
  printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=socket\n' \
    "$socket" "$health" > "$datadir/.my-healthcheck.cnf"
  chmod 600 "$datadir/.my-healthcheck.cnf"
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) echo "entrypoint: running $f"
            # shellcheck disable=SC1090 # the init scripts of the volume, known only here
            if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) echo "entrypoint: running $f"
             # shellcheck disable=SC2119 # no option: the file is the input
             docker_process_sql < "$f" ;;
      *) ;;
    esac
  done
  mariadb-admin --protocol=socket --socket="$socket" -uroot --password="$MARIADB_ROOT_PASSWORD" shutdown
  wait "$pid" || true
  echo "entrypoint: initialised"
fi
exec "$@"
