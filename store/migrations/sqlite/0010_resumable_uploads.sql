-- Resumable (tus) uploads from the recipient pages, and the parts that
-- hold their bytes until they are complete.
--
-- A row is the reservation of one file slot and length bytes of its
-- link's upload caps, taken when the upload began; deleting an unfinished
-- row (cancelled, or expired by the purge) gives them back. received grows
-- by one conditional UPDATE per part. lock_holder and lock_until are a
-- lease that one request at a time holds while it writes, on whichever
-- replica it runs; lock_wanted asks the holder to let go. Once the file
-- is committed, object_id and saved_name are set, the parts are gone and
-- the row stays until it expires so that a client that missed the last
-- answer still learns the upload is complete.

CREATE TABLE resumable_uploads (
    id          TEXT PRIMARY KEY,
    link_id     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    bucket_id   TEXT NOT NULL,
    folder_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    length      INTEGER NOT NULL,
    received    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    object_id   TEXT NOT NULL DEFAULT '',
    saved_name  TEXT NOT NULL DEFAULT '',
    lock_holder TEXT NOT NULL DEFAULT '',
    lock_until  TEXT NOT NULL DEFAULT '',
    lock_wanted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX resumable_uploads_expires ON resumable_uploads (expires_at);

CREATE TABLE resumable_parts (
    upload_id TEXT NOT NULL,
    position  INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    blob_key  TEXT NOT NULL UNIQUE,
    PRIMARY KEY (upload_id, position)
);
