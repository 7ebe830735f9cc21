-- records: the current revision of a record is stored once, in
-- records_metadata, which now also holds the op that made it (its commit time
-- is the record's updated time); records_revisions keeps only the superseded
-- revisions. A commit copies the current row into the history before
-- overwriting it. This drops the history rows that duplicate a record's
-- current state (same document, deleted flag and time), after taking their
-- op: no revision is lost. Every process must run the new code: an older one
-- would not copy the current row before overwriting it.
ALTER TABLE records_metadata ADD COLUMN op TEXT NOT NULL DEFAULT 'create';
UPDATE records_metadata SET op = (
    SELECT r.op FROM records_revisions r
    WHERE r.record_id = records_metadata.id AND r.revision = records_metadata.revision)
WHERE EXISTS (
    SELECT 1 FROM records_revisions r
    WHERE r.record_id = records_metadata.id AND r.revision = records_metadata.revision);
DELETE FROM records_revisions WHERE EXISTS (
    SELECT 1 FROM records_metadata m
    WHERE m.id = records_revisions.record_id AND m.revision = records_revisions.revision);
