-- The list index: one row per tag and per target of every live link, in
-- the order share/link/list returns links by default (created_at, id), so
-- that a listing filtered by a tag or a target reads one range of this
-- table for its count and its page instead of looking up every match.
-- Triggers keep it; nothing else writes it. term is 'tag:' || tag or
-- 'target:' || object_id.

CREATE TABLE link_index (
    bucket       TEXT COLLATE "C" NOT NULL,
    term         TEXT COLLATE "C" NOT NULL,
    link_created TEXT COLLATE "C" NOT NULL,
    link_id      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (bucket, term, link_created, link_id)
);
CREATE INDEX link_index_link ON link_index (link_id);

INSERT INTO link_index (bucket, term, link_created, link_id)
    SELECT l.bucket_id, 'tag:' || g.tag, l.created_at, l.id
    FROM link_tags g JOIN links l ON l.id = g.link_id WHERE l.deleted_at IS NULL;
INSERT INTO link_index (bucket, term, link_created, link_id)
    SELECT l.bucket_id, 'target:' || t.object_id, l.created_at, l.id
    FROM link_targets t JOIN links l ON l.id = t.link_id WHERE l.deleted_at IS NULL;

CREATE FUNCTION link_index_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t TEXT;
BEGIN
    IF TG_TABLE_NAME = 'link_tags' THEN
        t := 'tag:' || NEW.tag;
    ELSE
        t := 'target:' || NEW.object_id;
    END IF;
    INSERT INTO link_index (bucket, term, link_created, link_id)
        SELECT bucket_id, t, created_at, id FROM links WHERE id = NEW.link_id AND deleted_at IS NULL;
    RETURN NULL;
END;
$$;
CREATE FUNCTION link_index_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t TEXT;
BEGIN
    IF TG_TABLE_NAME = 'link_tags' THEN
        t := 'tag:' || OLD.tag;
    ELSE
        t := 'target:' || OLD.object_id;
    END IF;
    DELETE FROM link_index WHERE link_id = OLD.link_id AND term = t;
    RETURN NULL;
END;
$$;
CREATE TRIGGER link_index_tag_insert AFTER INSERT ON link_tags
    FOR EACH ROW EXECUTE FUNCTION link_index_insert();
CREATE TRIGGER link_index_tag_delete AFTER DELETE ON link_tags
    FOR EACH ROW EXECUTE FUNCTION link_index_delete();
CREATE TRIGGER link_index_target_insert AFTER INSERT ON link_targets
    FOR EACH ROW EXECUTE FUNCTION link_index_insert();
CREATE TRIGGER link_index_target_delete AFTER DELETE ON link_targets
    FOR EACH ROW EXECUTE FUNCTION link_index_delete();

CREATE FUNCTION link_index_link_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM link_index WHERE link_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER link_index_link_delete AFTER UPDATE OF deleted_at ON links
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION link_index_link_delete();
