-- Temporary authenticator locks (a window that doubles with each lock,
-- never permanent) and per-link upload counters that caps reserve with one
-- conditional UPDATE.

ALTER TABLE link_authenticators ADD COLUMN locked_until TEXT COLLATE "C";
ALTER TABLE link_authenticators ADD COLUMN lock_count BIGINT NOT NULL DEFAULT 0;
-- Locks used to be permanent; the new rule starts every authenticator afresh.
UPDATE link_authenticators SET failures = 0, locked_at = NULL;

ALTER TABLE links ADD COLUMN uploaded_files BIGINT NOT NULL DEFAULT 0;
ALTER TABLE links ADD COLUMN uploaded_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE links SET
    uploaded_files = (SELECT COUNT(o.id) FROM session_uploads u JOIN sessions s ON s.id = u.session_id
        JOIN objects o ON o.id = u.object_id WHERE s.link_id = links.id),
    uploaded_bytes = (SELECT COALESCE(SUM(o.size), 0) FROM session_uploads u JOIN sessions s ON s.id = u.session_id
        JOIN objects o ON o.id = u.object_id WHERE s.link_id = links.id);
