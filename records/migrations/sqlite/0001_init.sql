-- records: the current state of every record, and every committed revision.
-- JSON is stored as text; times as UTC timestamps.
CREATE TABLE IF NOT EXISTS records_metadata (
    id TEXT NOT NULL PRIMARY KEY,
    json TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records_revisions (
    record_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    json TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    op TEXT NOT NULL,
    committed TIMESTAMP NOT NULL,
    PRIMARY KEY (record_id, revision)
);
