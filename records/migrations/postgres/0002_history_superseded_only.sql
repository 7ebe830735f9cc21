-- records: the current revision of a record is stored once, in
-- records_metadata, which now also holds the op that made it (its commit time
-- is the record's updated time); records_revisions keeps only the superseded
-- revisions. A commit copies the current row into the history before
-- overwriting it. This drops the history rows that duplicate a record's
-- current state (same document, deleted flag and time), after taking their
-- op: no revision is lost. Every process must run the new code: an older one
-- would not copy the current row before overwriting it.
ALTER TABLE records_metadata ADD COLUMN IF NOT EXISTS op VARCHAR(16) NOT NULL DEFAULT 'create';
UPDATE records_metadata m SET op = r.op FROM records_revisions r
WHERE r.record_id = m.id AND r.revision = m.revision AND m.op <> r.op;
DELETE FROM records_revisions r USING records_metadata m
WHERE m.id = r.record_id AND m.revision = r.revision;
