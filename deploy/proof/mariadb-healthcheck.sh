#!/bin/bash
# Stand-in for the official image's healthcheck.sh: --connect (a login works) and
# --innodb_initialized (InnoDB is available), as the healthcheck user the entrypoint made.
set -eu
sql="SELECT 1"
for arg in "$@"; do
  case $arg in
    --innodb_initialized) sql="SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT')" ;;
  esac
done
out=$(mariadb --defaults-extra-file=/var/lib/mysql/.my-healthcheck.cnf -N -B -e "$sql")
[ "$out" = 1 ]
