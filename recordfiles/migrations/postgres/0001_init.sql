-- recordfiles: which files bucket belongs to which record (Invenio's records_buckets).
CREATE TABLE IF NOT EXISTS recordfiles_buckets (
    record_id VARCHAR(36) NOT NULL PRIMARY KEY,
    bucket_id VARCHAR(36) NOT NULL UNIQUE
);
