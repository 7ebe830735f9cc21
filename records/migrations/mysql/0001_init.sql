-- records: the current state of every record, and every committed revision.
CREATE TABLE IF NOT EXISTS records_metadata (
    id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    json JSON NOT NULL,
    revision BIGINT NOT NULL,
    created DATETIME(6) NOT NULL,
    updated DATETIME(6) NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS records_revisions (
    record_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    revision BIGINT NOT NULL,
    json JSON NOT NULL,
    deleted BOOLEAN NOT NULL,
    op VARCHAR(16) NOT NULL,
    committed DATETIME(6) NOT NULL,
    PRIMARY KEY (record_id, revision)
) ENGINE=InnoDB;
