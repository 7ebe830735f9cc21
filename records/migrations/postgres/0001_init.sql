-- records: the current state of every record, and every committed revision.
CREATE TABLE IF NOT EXISTS records_metadata (
    id UUID PRIMARY KEY,
    json JSONB NOT NULL,
    revision BIGINT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS records_revisions (
    record_id UUID NOT NULL,
    revision BIGINT NOT NULL,
    json JSONB NOT NULL,
    deleted BOOLEAN NOT NULL,
    op VARCHAR(16) NOT NULL,
    committed TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (record_id, revision)
);
