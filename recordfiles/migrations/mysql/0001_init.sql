-- recordfiles: which files bucket belongs to which record (Invenio's records_buckets).
CREATE TABLE IF NOT EXISTS recordfiles_buckets (
    record_id VARCHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    bucket_id VARCHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL UNIQUE
) ENGINE=InnoDB;
