-- The shop's mirror of the catalogue, written only by the consumer of queue `main`.
-- `version` is the newest catalogue version applied (NULL for states from the original
-- producers, which carried none); `deleted_at` is a tombstone, so a late create or update
-- of a deleted product cannot bring it back. `likes` counts rows of product_likes and is
-- kept in step in the transaction that records each like.
CREATE TABLE products (
    id         BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    title      VARCHAR(200)    NOT NULL,
    image      VARCHAR(200)    NOT NULL,
    likes      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    version    BIGINT UNSIGNED NULL,
    deleted_at TIMESTAMP(6)    NULL,
    updated_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
