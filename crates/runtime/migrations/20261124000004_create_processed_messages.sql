-- Message ids the consumer has applied, written in the same transaction as the effect, so a
-- redelivered message is recognised and skipped. Purged after PROCESSED_RETENTION_DAYS.
CREATE TABLE processed_messages (
    message_id   VARCHAR(255) NOT NULL PRIMARY KEY,
    processed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY ix_processed_messages_at (processed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
