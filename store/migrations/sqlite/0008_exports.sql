-- Exports in progress, and the blobs whose removal waits for them.
--
-- sesame export registers itself in exports before it opens its snapshot
-- and renews heartbeat_at while it runs. A blob whose row is deleted while
-- a live export runs is recorded in deferred_blobs instead of being
-- removed, because the export's snapshot may still name it; the purge
-- removes it once no export is live. An export whose heartbeat is stale
-- is dead and no longer counts.

CREATE TABLE exports (
    id           TEXT PRIMARY KEY,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);

CREATE TABLE deferred_blobs (
    blob_key    TEXT PRIMARY KEY,
    deferred_at TEXT NOT NULL
);
