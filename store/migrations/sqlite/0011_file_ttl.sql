-- File TTLs. file_ttl is the TTL set on the object itself ('' when it
-- inherits); ttl_from is the id of the object whose TTL is in force ('' for
-- the service default, which the configuration holds and may change) and
-- ttl_effective that TTL; expires_at is when a file expires under a TTL set
-- on an object (NULL: never, or under the service default, which is
-- counted from created_at at read time).

ALTER TABLE objects ADD COLUMN file_ttl TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN ttl_from TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN ttl_effective TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN expires_at TEXT;

-- The sweep finds expired files by these two.
CREATE INDEX objects_expires ON objects (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX objects_default_ttl ON objects (created_at) WHERE type = 'file' AND ttl_from = '';
