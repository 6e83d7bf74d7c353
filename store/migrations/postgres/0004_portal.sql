-- Recipient sessions, one-time-code challenges, per-address backoff,
-- download claims and what each upload session added.

CREATE TABLE sessions (
    secret_mac       BYTEA PRIMARY KEY,
    id               TEXT COLLATE "C" NOT NULL UNIQUE,
    link_id          TEXT COLLATE "C" NOT NULL,
    authenticator_id TEXT COLLATE "C" NOT NULL,
    auth_epoch       BIGINT NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    expires_at       TEXT COLLATE "C" NOT NULL,
    last_seen_at     TEXT COLLATE "C" NOT NULL,
    ip               TEXT COLLATE "C" NOT NULL DEFAULT '',
    user_agent       TEXT COLLATE "C" NOT NULL DEFAULT '',
    ended_at         TEXT COLLATE "C"
);
CREATE INDEX sessions_link ON sessions (link_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE challenges (
    id               TEXT COLLATE "C" PRIMARY KEY,
    authenticator_id TEXT COLLATE "C" NOT NULL,
    code_mac         BYTEA NOT NULL,
    expires_at       TEXT COLLATE "C" NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    consumed_at      TEXT COLLATE "C",
    sent_at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX challenges_auth ON challenges (authenticator_id, sent_at);

CREATE TABLE backoff (
    key           TEXT COLLATE "C" PRIMARY KEY,
    failures      BIGINT NOT NULL,
    blocked_until TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE download_claims (
    session_id TEXT COLLATE "C" NOT NULL,
    claim_key  TEXT COLLATE "C" NOT NULL,
    link_id    TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, claim_key)
);

-- seq keeps the order of insertion (SQLite's rowid).
CREATE TABLE session_uploads (
    session_id TEXT COLLATE "C" NOT NULL,
    object_id  TEXT COLLATE "C" NOT NULL,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (session_id, object_id)
);
