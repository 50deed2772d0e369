#!/usr/bin/env bash
# scripts/restore.sh FILE DATABASE [--replace]: restores one database from a file of
# scripts/backup.sh (FILE.sql.gz, checked against the MANIFEST beside it when there is one).
# Refuses, changing nothing, when the file was dumped from a database of another name (a
# restore into the wrong database), when it is not the same kind of database as DATABASE
# (the catalogue's, the shop's or the audit log's), or when DATABASE holds tables and
# --replace was not given. With --replace, DATABASE is dropped and created again, then
# loaded: stop the processes that use it first (docs/operating/backup-and-repair.md).
# RESTORE_AS=NAME allows a file of database NAME into DATABASE (a copy under another name).
# Server and user as scripts/backup.sh (MARIADB_HOST, MARIADB_PORT, BACKUP_USER, MYSQL_PWD,
# BACKUP_DEFAULTS_FILE).
set -euo pipefail
# shellcheck source=scripts/defaults.sh
source "$(dirname "$0")/defaults.sh"

refuse() { echo "restore: refusing: $*; nothing was changed" >&2; exit 2; }

if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && [ "$3" != --replace ]; }; then
  echo "usage: $0 FILE.sql.gz DATABASE [--replace]" >&2
  exit 2
fi
file=$1 db=$2 replace=${3:-}
client=(--host="$MARIADB_HOST" --port="$MARIADB_PORT" --user="${BACKUP_USER:-root}")
if [ -n "${BACKUP_DEFAULTS_FILE:-}" ]; then
  client=(--defaults-extra-file="$BACKUP_DEFAULTS_FILE" "${client[@]}")
fi
[[ $db =~ ^[A-Za-z0-9_]+$ ]] || refuse "database name '$db' is not a plain name"
[ -f "$file" ] || refuse "no file $file"
gzip -t "$file" 2>/dev/null || refuse "$file is not a whole gzip file"
manifest="$(dirname "$file")/MANIFEST"
if [ -f "$manifest" ]; then
  want=$(awk -v f="$(basename "$file")" '$2 == f { print $1 }' "$manifest")
  [ -n "$want" ] || refuse "$file is not listed in $manifest"
  [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$want" ] || refuse "$file does not match its SHA-256 in $manifest"
fi

# The name it was dumped from ("-- Host: h    Database: name" in mariadb-dump's header).
from=$(zcat "$file" | head -n 5 | sed -n 's/.*Database: \([A-Za-z0-9_]*\).*/\1/p')
[ -n "$from" ] || refuse "$file has no mariadb-dump header naming its database"
if [ "$from" != "$db" ] && [ "${RESTORE_AS:-}" != "$from" ]; then
  refuse "$file is a dump of database '$from', not '$db' (RESTORE_AS=$from to restore it under another name)"
fi

# The kind of database a dump or a database is, by its tables.
kind_of_tables() {
  local tables
  tables=$(cat)
  if grep -qx product_likes <<<"$tables"; then echo shop
  elif grep -qx users <<<"$tables"; then echo catalogue
  else echo other; fi
}
# shellcheck disable=SC2016 # the backquotes are mariadb-dump's, not the shell's
dump_kind=$(zcat "$file" | sed -n 's/^CREATE TABLE `\([^`]*\)`.*/\1/p' | kind_of_tables)
db_tables=$(mariadb "${client[@]}" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema = '$db'")
if [ -n "$db_tables" ]; then
  db_kind=$(kind_of_tables <<<"$db_tables")
  [ "$db_kind" = "$dump_kind" ] || refuse "database '$db' holds the $db_kind's tables and $file the $dump_kind's"
  [ "$replace" = --replace ] || refuse "database '$db' holds tables: give --replace to drop and restore it"
fi

echo "restore: $file ($dump_kind, dumped from $from) into $db" >&2
mariadb "${client[@]}" -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
zcat "$file" | mariadb "${client[@]}" "$db"
echo "restore: $db restored ($(mariadb "${client[@]}" -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$db'") tables)" >&2
