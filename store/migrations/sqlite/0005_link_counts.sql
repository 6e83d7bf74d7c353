-- The number of live links per bucket, kept by triggers, so that an
-- unfiltered share/link/list answers its count without scanning.

CREATE TABLE link_counts (
    bucket_id TEXT PRIMARY KEY,
    live      INTEGER NOT NULL
);
INSERT INTO link_counts (bucket_id, live)
    SELECT bucket_id, COUNT(*) FROM links WHERE deleted_at IS NULL GROUP BY bucket_id;

CREATE TRIGGER link_counts_insert AFTER INSERT ON links WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO link_counts (bucket_id, live) VALUES (NEW.bucket_id, 1)
        ON CONFLICT (bucket_id) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER link_counts_delete AFTER UPDATE OF deleted_at ON links
    WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE link_counts SET live = live - 1 WHERE bucket_id = NEW.bucket_id;
END;
