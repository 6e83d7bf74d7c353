-- The object store, API tokens and transfer state.

CREATE TABLE buckets (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE objects (
    id         TEXT PRIMARY KEY,
    bucket_id  TEXT NOT NULL REFERENCES buckets (id),
    parent_id  TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('file', 'folder')),
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL DEFAULT 0,
    mime_type  TEXT NOT NULL DEFAULT '',
    md5        TEXT NOT NULL DEFAULT '',
    sha1       TEXT NOT NULL DEFAULT '',
    sha256     TEXT NOT NULL DEFAULT '',
    sha512     TEXT NOT NULL DEFAULT '',
    crc32c     TEXT NOT NULL DEFAULT '',
    metadata   TEXT,
    tags       TEXT,
    blob_key   TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
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
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    mac          BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE pending_uploads (
    id         TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL,
    secret_mac BLOB NOT NULL UNIQUE,
    method     TEXT NOT NULL,
    spec       TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status     TEXT NOT NULL,
    object_id  TEXT NOT NULL DEFAULT '',
    failure    TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX pending_uploads_expires ON pending_uploads (expires_at);

CREATE TABLE download_grants (
    secret_mac BLOB PRIMARY KEY,
    bucket_id  TEXT NOT NULL,
    object_ids TEXT NOT NULL,
    archive    TEXT NOT NULL DEFAULT '',
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX download_grants_expires ON download_grants (expires_at);
