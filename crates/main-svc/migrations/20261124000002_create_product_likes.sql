-- One like per shopper and product, enforced by the primary key (not by a read-then-write
-- check), so concurrent likes by one shopper count once.
CREATE TABLE product_likes (
    product_id BIGINT UNSIGNED NOT NULL,
    shopper    CHAR(36)        NOT NULL,
    created_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (product_id, shopper)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
