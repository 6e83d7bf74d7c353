-- Webhooks, the attempts to deliver to them, and the outbox channel that
-- queues their messages.
--
-- A webhook's signing secret is sealed under the master key, bound to the
-- webhook's id. After a rotation the previous secret keeps signing, beside
-- the new one, until previous_until. A deleted webhook keeps its row (its
-- deliveries name it) but loses its secrets.

CREATE TABLE webhooks (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    url                    TEXT COLLATE "C" NOT NULL,
    events                 TEXT COLLATE "C" NOT NULL,
    description            TEXT COLLATE "C" NOT NULL DEFAULT '',
    disabled               BIGINT NOT NULL DEFAULT 0,
    secret_sealed          BYTEA,
    previous_secret_sealed BYTEA,
    previous_until         TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_by             TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at             TEXT COLLATE "C" NOT NULL,
    updated_at             TEXT COLLATE "C" NOT NULL,
    deleted_at             TEXT COLLATE "C"
);

-- One row per attempt; message_id is the webhook-id header, the same on
-- every attempt at one message.
CREATE TABLE webhook_deliveries (
    id          TEXT COLLATE "C" PRIMARY KEY,
    message_id  TEXT COLLATE "C" NOT NULL,
    webhook_id  TEXT COLLATE "C" NOT NULL,
    event_type  TEXT COLLATE "C" NOT NULL,
    attempt     BIGINT NOT NULL,
    time        TEXT COLLATE "C" NOT NULL,
    outcome     TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('success', 'failure')),
    status_code BIGINT NOT NULL DEFAULT 0,
    error       TEXT COLLATE "C" NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_time ON webhook_deliveries (time, id);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, time, id);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id, time, id);

ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms', 'webhook'));
