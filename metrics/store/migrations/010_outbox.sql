-- 010: the outbox (metrics.features.outbox). Every e-mail the product sends — an alert, later a digest — is queued
-- here first and sent by the next delivery run; a failure (the mail server down, a recipient refused) keeps it
-- queued with the error in one sentence and the time of the next try (back-off), so nothing is lost, and a message
-- is queued once for what it is about (kind, ref, recipient), so nothing is sent twice.
CREATE TABLE outbox (
    message_id      VARCHAR NOT NULL PRIMARY KEY,
    kind            VARCHAR NOT NULL,          -- alert, digest
    ref             VARCHAR NOT NULL,          -- what it is about: an alert's id, a digest's subscription and period
    recipient       VARCHAR NOT NULL,          -- an e-mail address
    subject         VARCHAR NOT NULL,
    body_text       VARCHAR NOT NULL,
    body_html       VARCHAR,
    queued_at       TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      VARCHAR,
    sent_at         TIMESTAMP
);
