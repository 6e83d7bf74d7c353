-- Webhooks, the attempts to deliver to them, and the outbox channel that
-- queues their messages.
--
-- A webhook's signing secret is sealed under the master key, bound to the
-- webhook's id. After a rotation the previous secret keeps signing, beside
-- the new one, until previous_until. A deleted webhook keeps its row (its
-- deliveries name it) but loses its secrets.

CREATE TABLE webhooks (
    id                     TEXT PRIMARY KEY,
    url                    TEXT NOT NULL,
    events                 TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    disabled               INTEGER NOT NULL DEFAULT 0,
    secret_sealed          BLOB,
    previous_secret_sealed BLOB,
    previous_until         TEXT NOT NULL DEFAULT '',
    created_by             TEXT NOT NULL DEFAULT '',
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    deleted_at             TEXT
);

-- One row per attempt; message_id is the webhook-id header, the same on
-- every attempt at one message.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    time        TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_time ON webhook_deliveries (time, id);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, time, id);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id, time, id);

-- SQLite cannot change a CHECK constraint in place: the outbox is rebuilt
-- with 'webhook' among its channels, rows and indexes as they were.
CREATE TABLE outbox_new (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
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
INSERT INTO outbox_new (id, channel, recipient, kind, link_id, payload, status, attempts, next_attempt_at, last_error, provider_id, created_at, sent_at)
SELECT id, channel, recipient, kind, link_id, payload, status, attempts, next_attempt_at, last_error, provider_id, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_created ON outbox (created_at, id);
CREATE INDEX outbox_link ON outbox (link_id, created_at, id);
CREATE INDEX outbox_status ON outbox (status, created_at, id);
CREATE INDEX outbox_sent ON outbox (channel, sent_at) WHERE status = 'sent';
