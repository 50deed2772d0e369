#!/usr/bin/env bash
# scripts/backup.sh DIR: backs up the shop's databases into DIR (created if missing), one
# gzipped file per database, each taken with `mariadb-dump --single-transaction` (a
# consistent snapshot of InnoDB tables, with no lock that stops writers):
#   DIR/<admin>.sql.gz        the catalogue (ADMIN_DB, default admin)
#   DIR/<admin>_audit.sql.gz  its audit log, when it exists
#   DIR/<main>.sql.gz         the shop (MAIN_DB, default main)
#   DIR/MANIFEST              when, from where, and each file's SHA-256
# The server is MARIADB_HOST:MARIADB_PORT, the user BACKUP_USER (default root); a password
# goes in MYSQL_PWD or in a client option file named by BACKUP_DEFAULTS_FILE, never on the
# command line. The user needs SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the
# three databases. docs/operating/backup-and-repair.md says what to do with the files.
set -euo pipefail
# shellcheck source=scripts/defaults.sh
source "$(dirname "$0")/defaults.sh"

if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: $0 DIR   (ADMIN_DB, MAIN_DB, MARIADB_HOST, MARIADB_PORT, BACKUP_USER, MYSQL_PWD)" >&2
  exit 2
fi
dir=$1
admin_db=${ADMIN_DB:-admin}
main_db=${MAIN_DB:-main}
client=(--host="$MARIADB_HOST" --port="$MARIADB_PORT" --user="${BACKUP_USER:-root}")
if [ -n "${BACKUP_DEFAULTS_FILE:-}" ]; then
  client=(--defaults-extra-file="$BACKUP_DEFAULTS_FILE" "${client[@]}")
fi

exists() {
  [ "$(mariadb "${client[@]}" -N -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$1'")" = 1 ]
}

if [ "$admin_db" = "$main_db" ]; then
  echo "backup: ADMIN_DB and MAIN_DB are both $admin_db: the catalogue and the shop have a database each" >&2
  exit 2
fi
for db in "$admin_db" "$main_db"; do
  if ! exists "$db"; then
    echo "backup: database $db does not exist on $MARIADB_HOST:$MARIADB_PORT (check ADMIN_DB and MAIN_DB)" >&2
    exit 2
  fi
done
dbs=("$admin_db")
exists "${admin_db}_audit" && dbs+=("${admin_db}_audit")
dbs+=("$main_db")

mkdir -p "$dir"
manifest="$dir/MANIFEST"
{
  echo "# shop backup: $(date -u +%Y-%m-%dT%H:%M:%SZ) from $MARIADB_HOST:$MARIADB_PORT"
  echo "# mariadb-dump --single-transaction; restore with scripts/restore.sh FILE DATABASE"
} >"$manifest.tmp"
for db in "${dbs[@]}"; do
  file="$dir/$db.sql.gz"
  # --single-transaction: one consistent snapshot per database; --quick streams rows;
  # --hex-blob keeps the outbox's bodies exact; routines, triggers and events are included.
  mariadb-dump "${client[@]}" --single-transaction --quick --hex-blob \
    --routines --triggers --events "$db" | gzip -c >"$file.tmp"
  mv "$file.tmp" "$file"
  echo "$(sha256sum "$file" | cut -d' ' -f1)  $db.sql.gz" >>"$manifest.tmp"
  echo "backup: $db -> $file ($(du -h "$file" | cut -f1))" >&2
done
mv "$manifest.tmp" "$manifest"
