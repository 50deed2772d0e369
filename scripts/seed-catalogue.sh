#!/usr/bin/env bash
# seed_catalogue N: N more products in a running stack's two databases (scripts/stack.sh's
# ADMIN_DATABASE and MAIN_DATABASE on MARIADB_HOST:MARIADB_PORT), inserted straight into both
# (multi-row INSERTs, seconds for 100,000 where the admin API would take minutes), then indexed
# for search by each API's `reindex-search` command (which also tells the running APIs that
# the catalogue changed, through its version). Sourced by the benchmark and the browser tests; the binaries are target/$PROFILE's
# (debug unless RELEASE=1).
#
# Titles are made to be searched like a real catalogue's: a colour, a material, a kind of
# thing and the id ("Blue Linen Lamp 4821"), so that a word matches a sixteenth of the
# catalogue, two words a few hundred products, three about a dozen, and some words carry
# accents ("Crème", "Suède").

seed_catalogue() {
  local n=$1 sql=(mariadb -uroot -h"$MARIADB_HOST" -P"$MARIADB_PORT") first work profile=debug db
  [ "${RELEASE:-0}" = 1 ] && profile=release
  work=$(mktemp -d)
  # After the largest id either database has seen (the shop keeps deleted products' ids as
  # tombstones; the catalogue's counter is past its deleted ones).
  first=$("${sql[@]}" -N -e "SELECT GREATEST(
      COALESCE((SELECT MAX(id) FROM $ADMIN_DATABASE.products), 0),
      COALESCE((SELECT MAX(id) FROM $MAIN_DATABASE.products), 0),
      COALESCE((SELECT AUTO_INCREMENT - 1 FROM information_schema.tables
                WHERE table_schema = '$ADMIN_DATABASE' AND table_name = 'products'), 0))")
  awk -v first="$first" -v n="$n" 'BEGIN {
    split("Red Blue Green Black White Grey Yellow Orange Purple Pink Brown Navy Teal Olive Ivory Gold", colour, " ")
    split("Linen Cotton Wool Silk Leather Suède Oak Walnut Steel Brass Copper Glass Ceramic Bamboo Crème Velvet", material, " ")
    split("Lamp Chair Table Mug Vase Rug Clock Mirror Shelf Stool Bowl Basket Blanket Cushion Candle Frame Ladder Kettle Teapot Plate Jug Lantern Bench Desk Sofa Bed Towel Apron Scarf Hat Bag Box", kind, " ")
    for (b = 0; b * 5000 < n; b++) {
      printf "INSERT INTO products (id, title, image) VALUES "
      for (i = 1; i <= 5000 && b * 5000 + i <= n; i++) {
        id = first + b * 5000 + i
        title = colour[id % 16 + 1] " " material[int(id / 16) % 16 + 1] " " kind[int(id / 256) % 32 + 1] " " id
        printf "%s(%d, \"%s\", \"/img/%d.png\")", (i > 1 ? "," : ""), id, title, id
      }
      print ";"
    }
  }' > "$work/products.sql"
  "${sql[@]}" --default-character-set=utf8mb4 "$ADMIN_DATABASE" < "$work/products.sql"
  "${sql[@]}" -e "INSERT INTO $MAIN_DATABASE.products (id, title, image, version)
    SELECT id, title, image, version FROM $ADMIN_DATABASE.products WHERE id > $first"
  rm -rf "$work"
  for db in "admin-api:$ADMIN_DATABASE" "main-api:$MAIN_DATABASE"; do
    DATABASE_URL='' SQL_HOST=$MARIADB_HOST SQL_PORT=$MARIADB_PORT SQL_DATABASE=${db#*:} \
      RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/$profile/${db%%:*}" reindex-search >/dev/null
  done
}
