-- Likes no longer add one to a counter in the product's row, which every like of a product
-- had to lock in turn (a product going viral serialised on it). Each like adds one to one
-- of 16 shards of the product's count, picked at random, so concurrent likes of one product
-- rarely wait for each other; the count is the sum of the shards. product_likes still
-- holds one row per shopper and product (its primary key keeps the one-like rule exact),
-- now numbered by `seq`, whose maximum tells the APIs' lists that likes came.
CREATE TABLE product_like_counts (
    product_id BIGINT UNSIGNED  NOT NULL,
    shard      TINYINT UNSIGNED NOT NULL,
    likes      BIGINT UNSIGNED  NOT NULL,
    PRIMARY KEY (product_id, shard)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
INSERT INTO product_like_counts (product_id, shard, likes)
    SELECT id, 0, likes FROM products WHERE likes > 0;
ALTER TABLE products DROP COLUMN likes;
ALTER TABLE product_likes
    ADD COLUMN seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    ADD UNIQUE KEY ux_product_likes_seq (seq);
