-- The products' search index (shop_runtime::lists::search), one table in each service's
-- database: every product's title as normalised terms (lower case, accents removed), each
-- word's every prefix (`blu`) and the whole word marked with a final `.` (`blue.`), at most
-- 32 characters of a word. Written by whoever writes a product, in the same transaction;
-- `search_index` records which version of the terms the rows were made with, so that a
-- process can fill the table for products written before it existed, or after the rules
-- changed.
CREATE TABLE product_search_terms (
    product_id BIGINT UNSIGNED NOT NULL,
    term       VARCHAR(33) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (product_id, term),
    KEY by_term (term, product_id)
) ENGINE = InnoDB;
CREATE TABLE search_index (
    name     VARCHAR(32)     NOT NULL PRIMARY KEY,
    version  INT UNSIGNED    NOT NULL,
    after_id BIGINT UNSIGNED NOT NULL,
    complete BOOLEAN         NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
INSERT INTO search_index (name, version, after_id, complete) VALUES ('products', 0, 0, FALSE);
