-- Recipient sessions, one-time-code challenges, per-address backoff,
-- download claims and what each upload session added.

CREATE TABLE sessions (
    secret_mac       BLOB PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    link_id          TEXT NOT NULL,
    authenticator_id TEXT NOT NULL,
    auth_epoch       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    ip               TEXT NOT NULL DEFAULT '',
    user_agent       TEXT NOT NULL DEFAULT '',
    ended_at         TEXT
);
CREATE INDEX sessions_link ON sessions (link_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE challenges (
    id               TEXT PRIMARY KEY,
    authenticator_id TEXT NOT NULL,
    code_mac         BLOB NOT NULL,
    expires_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    consumed_at      TEXT,
    sent_at          TEXT NOT NULL
);
CREATE INDEX challenges_auth ON challenges (authenticator_id, sent_at);

CREATE TABLE backoff (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    blocked_until TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE download_claims (
    session_id TEXT NOT NULL,
    claim_key  TEXT NOT NULL,
    link_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, claim_key)
);

CREATE TABLE session_uploads (
    session_id TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    PRIMARY KEY (session_id, object_id)
);
