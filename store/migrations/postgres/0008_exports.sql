-- Exports in progress, and the blobs whose removal waits for them.
--
-- sesame export registers itself in exports before it opens its snapshot
-- and renews heartbeat_at while it runs. A blob whose row is deleted while
-- a live export runs is recorded in deferred_blobs instead of being
-- removed, because the export's snapshot may still name it; the purge
-- removes it once no export is live. An export whose heartbeat is stale
-- is dead and no longer counts.

CREATE TABLE exports (
    id           TEXT COLLATE "C" PRIMARY KEY,
    started_at   TEXT COLLATE "C" NOT NULL,
    heartbeat_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE deferred_blobs (
    blob_key    TEXT COLLATE "C" PRIMARY KEY,
    deferred_at TEXT COLLATE "C" NOT NULL
);
