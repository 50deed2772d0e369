-- The catalogue. `version` grows by one on every change and travels with product events, so
-- main-svc can ignore a state older than the one it holds.
CREATE TABLE products (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    title      VARCHAR(200)    NOT NULL,
    image      VARCHAR(200)    NOT NULL,
    likes      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    version    BIGINT UNSIGNED NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
