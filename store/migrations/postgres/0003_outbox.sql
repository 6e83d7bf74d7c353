-- The durable outbox. Bodies are sealed (they carry link URLs and codes)
-- and forgotten once a message is sent or has failed for good.

CREATE TABLE outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    channel         TEXT COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT COLLATE "C" NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL DEFAULT '',
    link_id         TEXT COLLATE "C" NOT NULL DEFAULT '',
    payload         BYTEA,
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
    provider_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      TEXT COLLATE "C" NOT NULL,
    sent_at         TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_created ON outbox (created_at, id);
CREATE INDEX outbox_link ON outbox (link_id, created_at, id);
CREATE INDEX outbox_status ON outbox (status, created_at, id);
CREATE INDEX outbox_sent ON outbox (channel, sent_at) WHERE status = 'sent';
