-- The durable outbox. Bodies are sealed (they carry link URLs and codes)
-- and forgotten once a message is sent or has failed for good.

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT '',
    link_id         TEXT NOT NULL DEFAULT '',
    payload         BLOB,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    provider_id     TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    sent_at         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_created ON outbox (created_at, id);
CREATE INDEX outbox_link ON outbox (link_id, created_at, id);
CREATE INDEX outbox_status ON outbox (status, created_at, id);
CREATE INDEX outbox_sent ON outbox (channel, sent_at) WHERE status = 'sent';
