#!/bin/bash
# Run once by the mariadb image's entrypoint, on an empty data directory (it is sourced, so
# docker_process_sql, the entrypoint's root client, is at hand). Creates both services'
# databases and their least-privilege users from scripts/grants.sql (mounted at
# /etc/shop/grants.sql; docs/operating/security.md, "Database users"), and
# mysqld_exporter's user. Passwords come from the environment docker-compose.yml passes in
# from .env; none is printed.
#
# Changing a password in .env later does not change it here (this runs once): run
# scripts/grants.sql again, or ALTER USER, as root (docs/operating/security.md, "Database
# users").

shop_sql_literal() { # the value as the inside of a '...' SQL string
  local s=${1//\\/\\\\}
  printf '%s' "${s//\'/\\\'}"
}

shop_grants() { # database api_user api_password consumer_user consumer_password
  local sql
  sql=$(cat /etc/shop/grants.sql)
  # Plain replacement: `&` in a password must stay `&` (bash 5.2's patsub_replacement).
  shopt -u patsub_replacement 2>/dev/null || true
  sql=${sql//'{database}'/$1}
  sql=${sql//'{api_user}'/$2}
  sql=${sql//'{api_password}'/$(shop_sql_literal "$3")}
  sql=${sql//'{consumer_user}'/$4}
  sql=${sql//'{consumer_password}'/$(shop_sql_literal "$5")}
  # shellcheck disable=SC2016 # backquotes around a database name, for MariaDB
  printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n%s\n' "$1" "$sql" | docker_process_sql
}

shop_grants admin admin_api "${ADMIN_API_DB_PASSWORD:?}" admin_consumer "${ADMIN_CONSUMER_DB_PASSWORD:?}"
shop_grants main main_api "${MAIN_API_DB_PASSWORD:?}" main_consumer "${MAIN_CONSUMER_DB_PASSWORD:?}"

# mysqld_exporter: the rights its default collectors need (docs/operating/monitoring.md).
docker_process_sql <<SQL
CREATE USER IF NOT EXISTS 'exporter'@'%' IDENTIFIED BY '$(shop_sql_literal "${EXPORTER_DB_PASSWORD:?}")' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'%';
GRANT SLAVE MONITOR ON *.* TO 'exporter'@'%';
SQL
echo "10-shop-users.sh: databases admin and main; users admin_api, admin_consumer, main_api, main_consumer, exporter"
unset -f shop_sql_literal shop_grants
