-- The number of live links per bucket, kept by triggers, so that an
-- unfiltered share/link/list answers its count without scanning.

CREATE TABLE link_counts (
    bucket_id TEXT COLLATE "C" PRIMARY KEY,
    live      BIGINT NOT NULL
);
INSERT INTO link_counts (bucket_id, live)
    SELECT bucket_id, COUNT(*) FROM links WHERE deleted_at IS NULL GROUP BY bucket_id;

CREATE FUNCTION link_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_counts (bucket_id, live) VALUES (NEW.bucket_id, 1)
        ON CONFLICT (bucket_id) DO UPDATE SET live = link_counts.live + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER link_counts_insert AFTER INSERT ON links
    FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION link_counts_insert();

CREATE FUNCTION link_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE link_counts SET live = live - 1 WHERE bucket_id = NEW.bucket_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER link_counts_delete AFTER UPDATE OF deleted_at ON links
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION link_counts_delete();
