-- Owner notifications: what a link's owner wants to be emailed about (a
-- JSON object, NULL for nothing), and the uploads of each session not yet
-- told in a digest. A digest deletes its rows as it queues the email, so a
-- row is told once however many sweeps run.

ALTER TABLE links ADD COLUMN notify TEXT;
-- When the owner was told of the link's first download (NULL: not yet).
ALTER TABLE links ADD COLUMN owner_download_at TEXT;

CREATE TABLE owner_uploads (
    session_id TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    link_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, object_id)
);
