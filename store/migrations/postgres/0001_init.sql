-- The object store, API tokens and transfer state.
--
-- The PostgreSQL form of migrations/sqlite with the same numbers. Times stay
-- text in sesame.TimeLayout, and every text column compares bytewise
-- (collation "C"), as in SQLite, so that orders, ranges and cursors agree.

CREATE TABLE buckets (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE objects (
    id         TEXT COLLATE "C" PRIMARY KEY,
    bucket_id  TEXT COLLATE "C" NOT NULL REFERENCES buckets (id),
    parent_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
    name       TEXT COLLATE "C" NOT NULL,
    type       TEXT COLLATE "C" NOT NULL CHECK (type IN ('file', 'folder')),
    path       TEXT COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL DEFAULT 0,
    mime_type  TEXT COLLATE "C" NOT NULL DEFAULT '',
    md5        TEXT COLLATE "C" NOT NULL DEFAULT '',
    sha1       TEXT COLLATE "C" NOT NULL DEFAULT '',
    sha256     TEXT COLLATE "C" NOT NULL DEFAULT '',
    sha512     TEXT COLLATE "C" NOT NULL DEFAULT '',
    crc32c     TEXT COLLATE "C" NOT NULL DEFAULT '',
    metadata   TEXT COLLATE "C",
    tags       TEXT COLLATE "C",
    blob_key   TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX objects_sibling ON objects (bucket_id, parent_id, name);
CREATE UNIQUE INDEX objects_path ON objects (bucket_id, path);
CREATE INDEX objects_created ON objects (bucket_id, created_at, id);
CREATE INDEX objects_updated ON objects (bucket_id, updated_at, id);
CREATE INDEX objects_name ON objects (bucket_id, name, id);
CREATE INDEX objects_size ON objects (bucket_id, size, id);
CREATE INDEX objects_type ON objects (bucket_id, type, id);
CREATE INDEX objects_parent ON objects (bucket_id, parent_id, id);
CREATE INDEX objects_blob ON objects (blob_key) WHERE blob_key <> '';

CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    mac          BYTEA NOT NULL UNIQUE,
    scopes       TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C",
    last_used_at TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C"
);

CREATE TABLE pending_uploads (
    id         TEXT COLLATE "C" PRIMARY KEY,
    token_id   TEXT COLLATE "C" NOT NULL,
    secret_mac BYTEA NOT NULL UNIQUE,
    method     TEXT COLLATE "C" NOT NULL,
    spec       TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL,
    object_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
    failure    TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX pending_uploads_expires ON pending_uploads (expires_at);

CREATE TABLE download_grants (
    secret_mac BYTEA PRIMARY KEY,
    bucket_id  TEXT COLLATE "C" NOT NULL,
    object_ids TEXT COLLATE "C" NOT NULL,
    archive    TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_at TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX download_grants_expires ON download_grants (expires_at);
