-- Versions of what the APIs' in-memory lists are built from (shop_runtime::changes): a writer
-- adds one to a row in the transaction of its change, and every API replica checks them
-- every LIST_VERSION_CHECK_MS, the safety net for a change notice it missed. `catalogue`:
-- products came, went or changed; `counts`: like counts moved (the catalogue's; the shop
-- counts its likes by product_likes.seq instead, so that likes share no row).
CREATE TABLE cache_versions (
    name    VARCHAR(32)     NOT NULL PRIMARY KEY,
    version BIGINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
INSERT INTO cache_versions (name, version) VALUES ('catalogue', 0), ('counts', 0);
