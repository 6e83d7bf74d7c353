-- Retention: audit events may be deleted only by the retention purge, and
-- deleted links lose their secrets.

-- The retention purge inserts its cutoff here, deletes the events older than
-- it and removes the row again, all in one transaction, so the row is never
-- committed. Any other DELETE of audit events is still refused.
CREATE TABLE audit_purge (
    cutoff TEXT COLLATE "C" NOT NULL
);

DROP TRIGGER audit_events_no_delete ON audit_events;
CREATE FUNCTION audit_events_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_purge WHERE OLD.time < audit_purge.cutoff) THEN
        RAISE EXCEPTION 'audit events are append-only';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_no_delete();

-- Links deleted before this migration: drop their password hashes and sealed
-- tokens, end their sessions and forget their codes, as deleting a link now
-- does at once. The rows, the targets and the audit trail stay.
UPDATE link_authenticators SET context = ''
    WHERE auth_type = 'password' AND link_id IN (SELECT id FROM links WHERE deleted_at IS NOT NULL);
UPDATE links SET token_sealed = ''::bytea WHERE deleted_at IS NOT NULL;
DELETE FROM challenges
    WHERE authenticator_id IN (SELECT a.id FROM link_authenticators a JOIN links l ON l.id = a.link_id WHERE l.deleted_at IS NOT NULL);
UPDATE sessions SET ended_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    WHERE ended_at IS NULL AND link_id IN (SELECT id FROM links WHERE deleted_at IS NOT NULL);
