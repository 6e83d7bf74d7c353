-- Share links, their targets, tags and authenticators; the audit trail;
-- idempotency keys.

CREATE TABLE links (
    id               TEXT PRIMARY KEY,
    bucket_id        TEXT NOT NULL REFERENCES buckets (id),
    link_type        TEXT NOT NULL CHECK (link_type IN ('download', 'upload', 'editor')),
    token_mac        BLOB NOT NULL UNIQUE,
    token_sealed     BLOB NOT NULL,
    first_target     TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    message          TEXT NOT NULL DEFAULT '',
    tags             TEXT,
    notify_email     TEXT NOT NULL DEFAULT '',
    recipient_email  TEXT NOT NULL DEFAULT '',
    sender_email     TEXT NOT NULL DEFAULT '',
    sender_name      TEXT NOT NULL DEFAULT '',
    expires_at       TEXT NOT NULL,
    max_access_count INTEGER NOT NULL,
    access_count     INTEGER NOT NULL DEFAULT 0,
    max_downloads    INTEGER NOT NULL DEFAULT 0,
    downloads        INTEGER NOT NULL DEFAULT 0,
    last_accessed_at TEXT NOT NULL DEFAULT '',
    auth_epoch       INTEGER NOT NULL DEFAULT 1,
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
-- One index per order, over live links only; each also serves its
-- equality and range filters.
CREATE INDEX links_created ON links (bucket_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX links_expires ON links (bucket_id, expires_at, id) WHERE deleted_at IS NULL;
CREATE INDEX links_accessed ON links (bucket_id, last_accessed_at, id) WHERE deleted_at IS NULL;
CREATE INDEX links_access_count ON links (bucket_id, access_count, id) WHERE deleted_at IS NULL;
CREATE INDEX links_max_access ON links (bucket_id, max_access_count, id) WHERE deleted_at IS NULL;
CREATE INDEX links_type_created ON links (bucket_id, link_type, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX links_id ON links (bucket_id, id) WHERE deleted_at IS NULL;
CREATE INDEX links_target ON links (bucket_id, first_target, id) WHERE deleted_at IS NULL;
CREATE INDEX links_title ON links (bucket_id, title, id) WHERE deleted_at IS NULL;
CREATE INDEX links_message ON links (bucket_id, message, id) WHERE deleted_at IS NULL;
CREATE INDEX links_recipient ON links (bucket_id, recipient_email, id) WHERE deleted_at IS NULL;
CREATE INDEX links_sender ON links (bucket_id, sender_email, id) WHERE deleted_at IS NULL;
CREATE INDEX links_notify ON links (bucket_id, notify_email, id) WHERE deleted_at IS NULL;

CREATE TABLE link_targets (
    link_id   TEXT NOT NULL REFERENCES links (id),
    object_id TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (link_id, object_id)
);
CREATE INDEX link_targets_object ON link_targets (object_id, link_id);

CREATE TABLE link_tags (
    link_id TEXT NOT NULL REFERENCES links (id),
    tag     TEXT NOT NULL,
    PRIMARY KEY (link_id, tag)
);
CREATE INDEX link_tags_tag ON link_tags (tag, link_id);

CREATE TABLE link_authenticators (
    id        TEXT PRIMARY KEY,
    link_id   TEXT NOT NULL REFERENCES links (id),
    position  INTEGER NOT NULL,
    auth_type TEXT NOT NULL CHECK (auth_type IN ('password', 'email_otp', 'sms_otp')),
    context   TEXT NOT NULL,
    failures  INTEGER NOT NULL DEFAULT 0,
    locked_at TEXT
);
CREATE INDEX link_authenticators_link ON link_authenticators (link_id, position);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    action     TEXT NOT NULL,
    link_id    TEXT NOT NULL DEFAULT '',
    object_id  TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    outcome    TEXT NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_link ON audit_events (link_id, id) WHERE link_id <> '';
CREATE INDEX audit_object ON audit_events (object_id, id) WHERE object_id <> '';
CREATE INDEX audit_action ON audit_events (action, id);
CREATE INDEX audit_actor ON audit_events (actor, id);
CREATE INDEX audit_time ON audit_events (time, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TABLE idempotency_keys (
    token_id    TEXT NOT NULL,
    key         TEXT NOT NULL,
    route       TEXT NOT NULL,
    fingerprint BLOB,
    state       TEXT NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    response    BLOB,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
