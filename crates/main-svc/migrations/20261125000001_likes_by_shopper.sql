-- GET /flask/api/likes reads a shopper's likes: by shopper, without a scan.
CREATE INDEX ix_product_likes_shopper ON product_likes (shopper, product_id);
