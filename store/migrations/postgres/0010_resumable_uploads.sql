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
    id          TEXT COLLATE "C" PRIMARY KEY,
    link_id     TEXT COLLATE "C" NOT NULL,
    session_id  TEXT COLLATE "C" NOT NULL,
    bucket_id   TEXT COLLATE "C" NOT NULL,
    folder_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    length      BIGINT NOT NULL,
    received    BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    object_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    saved_name  TEXT COLLATE "C" NOT NULL DEFAULT '',
    lock_holder TEXT COLLATE "C" NOT NULL DEFAULT '',
    lock_until  TEXT COLLATE "C" NOT NULL DEFAULT '',
    lock_wanted BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX resumable_uploads_expires ON resumable_uploads (expires_at);

CREATE TABLE resumable_parts (
    upload_id TEXT COLLATE "C" NOT NULL,
    position  BIGINT NOT NULL,
    size      BIGINT NOT NULL,
    blob_key  TEXT COLLATE "C" NOT NULL UNIQUE,
    PRIMARY KEY (upload_id, position)
);
