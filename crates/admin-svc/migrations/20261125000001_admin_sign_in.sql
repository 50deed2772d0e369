-- Admins sign in: a password hash per user (Argon2id, PHC string; NULL until one is set,
-- and such a user cannot sign in), server-side sessions, and API tokens for machine clients.
ALTER TABLE users
    ADD COLUMN password_hash VARCHAR(255) NULL,
    ADD COLUMN disabled_at   TIMESTAMP(6) NULL;

-- tower-sessions' MySQL store: its schema, in this database.
CREATE TABLE sessions (
    id          CHAR(22)     NOT NULL PRIMARY KEY,
    data        BLOB         NOT NULL,
    expiry_date TIMESTAMP(6) NOT NULL,
    KEY ix_sessions_expiry (expiry_date)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A token is shown once when created; only its SHA-256 is kept.
CREATE TABLE api_tokens (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(100)    NOT NULL,
    token_sha256 CHAR(64)        NOT NULL,
    created_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_used_at TIMESTAMP(6)    NULL,
    revoked_at   TIMESTAMP(6)    NULL,
    UNIQUE KEY uq_api_tokens_sha256 (token_sha256),
    UNIQUE KEY uq_api_tokens_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
