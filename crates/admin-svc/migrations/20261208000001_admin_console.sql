-- The admin console (docs/contract.md, "The admin console"): roles, the last sign-in, tokens
-- with an owner and an expiry, the list of an admin's sessions, and one-time links to set a
-- password. The audit log is not here: it lives in its own database (admin_svc::audit),
-- where the API's database user may only read and append.

-- Existing users keep everything they could do: they are admins.
ALTER TABLE users
    ADD COLUMN role            ENUM('admin', 'viewer') NOT NULL DEFAULT 'admin',
    ADD COLUMN last_sign_in_at TIMESTAMP(6) NULL;

-- A token acts with its owner's role; one without owner (made by `admin-api create-token`)
-- acts as an admin. A name is unique among its owner's live tokens, so that a revoked
-- token's name can be used again.
ALTER TABLE api_tokens
    ADD COLUMN user_id    BIGINT UNSIGNED NULL,
    ADD COLUMN expires_at TIMESTAMP(6) NULL,
    ADD COLUMN owner_key  BIGINT UNSIGNED AS (COALESCE(user_id, 0)) PERSISTENT,
    ADD COLUMN live_name  VARCHAR(100) AS (IF(revoked_at IS NULL, name, NULL)) PERSISTENT,
    DROP INDEX uq_api_tokens_name,
    ADD UNIQUE KEY uq_api_tokens_live_name (owner_key, live_name),
    ADD KEY by_user (user_id);

-- What an admin sees of their sessions ("Signed in on …"). The session's data (in
-- `sessions`, tower-sessions' table) holds this row's id; a session whose row is gone is
-- signed out, which is how one session, or all of an account's, end at once.
CREATE TABLE admin_sessions (
    id           CHAR(32)        NOT NULL PRIMARY KEY,
    user_id      BIGINT UNSIGNED NOT NULL,
    created_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_seen_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at   TIMESTAMP(6)    NOT NULL,
    user_agent   VARCHAR(300)    NOT NULL DEFAULT '',
    ip           VARCHAR(45)     NULL,
    KEY by_user (user_id, created_at),
    KEY by_expiry (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One-time links with which an account's owner sets their password. Only the token's
-- SHA-256 is kept, as for API tokens.
CREATE TABLE account_links (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_sha256 CHAR(64)        NOT NULL,
    user_id      BIGINT UNSIGNED NOT NULL,
    created_by   BIGINT UNSIGNED NULL,
    created_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at   TIMESTAMP(6)    NOT NULL,
    used_at      TIMESTAMP(6)    NULL,
    revoked_at   TIMESTAMP(6)    NULL,
    UNIQUE KEY uq_account_links_sha256 (token_sha256),
    KEY by_user (user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
