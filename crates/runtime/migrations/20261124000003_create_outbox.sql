-- Events committed with the change that caused them, published by the relay (shop-runtime's
-- outbox module). `published_at` stays NULL until the broker confirmed the message.
CREATE TABLE outbox (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    message_id   CHAR(36)        NOT NULL,
    content_type VARCHAR(64)     NOT NULL,
    body         MEDIUMBLOB      NOT NULL,
    traceparent  VARCHAR(55)     NULL,
    tracestate   VARCHAR(512)    NULL,
    created_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    published_at TIMESTAMP(6)    NULL,
    UNIQUE KEY uq_outbox_message_id (message_id),
    KEY ix_outbox_pending (published_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
