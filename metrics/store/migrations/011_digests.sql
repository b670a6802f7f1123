-- 011: subscriptions and digests (metrics.features.digests). A person subscribes themselves — a head or an executive
-- may subscribe the people they manage — to a page or a committee pack, for a scope, on a cadence. Each digest is
-- rendered as its recipient (their access, suppression, their own figures), e-mailed through the outbox with the PDF
-- attached, and recorded here once per subscription and period, so nothing is sent twice.
CREATE TABLE subscriptions (
    subscription_id VARCHAR NOT NULL PRIMARY KEY,
    user_id       VARCHAR NOT NULL,        -- the recipient: digests are rendered as this user sees the figures
    role          VARCHAR NOT NULL,        -- the recipient as they were when subscribed: used only with demo sign-in,
    department_id VARCHAR,                 -- where people have no account; otherwise the account as it is now
    staff_id      VARCHAR,
    email         VARCHAR NOT NULL,
    page          VARCHAR NOT NULL,        -- a printable page (metrics.present.documents.PAGES) or pack
    scope_kind    VARCHAR,                 -- a department page's or pack's unit; NULL: the page's own scope
    scope_key     VARCHAR,
    cadence       VARCHAR NOT NULL,        -- weekly, monthly, after_load
    day           INTEGER,                 -- weekly: 0 (Monday) – 6; monthly: 1 – 28
    token         VARCHAR NOT NULL UNIQUE, -- the one-click unsubscribe link's secret (it can only end this subscription)
    created_by    VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    ended_at      TIMESTAMP,
    version       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE digests_sent (
    subscription_id VARCHAR NOT NULL,
    period_key    VARCHAR NOT NULL,        -- the period covered (after_load: and the load), once per subscription
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    message_id    VARCHAR,                 -- the outbox message
    queued_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, period_key)
);
-- A digest carries its PDF, and a List-Unsubscribe header.
ALTER TABLE outbox ADD COLUMN attachment BLOB;
ALTER TABLE outbox ADD COLUMN attachment_name VARCHAR;
ALTER TABLE outbox ADD COLUMN unsubscribe_url VARCHAR;
