-- Password-protected files. objects.vault is the lock of a protected file
-- (sesame.FileLock: how its key is derived from its password, how its
-- bytes are sealed, and a check value); NULL for every other object. The
-- keys recipients unlock live sealed under the server's key, for as long
-- as what holds them: a download URL (download_grants.file_key), a
-- recipient's session (session_file_keys, deleted with the session), or an
-- announced upload until its bytes arrive (pending_uploads.file_key).

ALTER TABLE objects ADD COLUMN vault BYTEA;
ALTER TABLE download_grants ADD COLUMN file_key BYTEA;
ALTER TABLE pending_uploads ADD COLUMN file_key BYTEA;

CREATE TABLE session_file_keys (
    session_id TEXT COLLATE "C" NOT NULL,
    object_id  TEXT COLLATE "C" NOT NULL,
    key_sealed BYTEA NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, object_id)
);
