-- Password-protected files. objects.vault is the lock of a protected file
-- (sesame.FileLock: how its key is derived from its password, how its
-- bytes are sealed, and a check value); NULL for every other object. The
-- keys recipients unlock live sealed under the server's key, for as long
-- as what holds them: a download URL (download_grants.file_key), a
-- recipient's session (session_file_keys, deleted with the session), or an
-- announced upload until its bytes arrive (pending_uploads.file_key).

ALTER TABLE objects ADD COLUMN vault BLOB;
ALTER TABLE download_grants ADD COLUMN file_key BLOB;
ALTER TABLE pending_uploads ADD COLUMN file_key BLOB;

CREATE TABLE session_file_keys (
    session_id TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    key_sealed BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, object_id)
);
