-- files: buckets, object versions, file instances, multipart uploads, tags.
CREATE TABLE IF NOT EXISTS files_buckets (
    id            VARCHAR(36) PRIMARY KEY,
    location      VARCHAR(64) NOT NULL DEFAULT '',
    storage_class VARCHAR(32) NOT NULL DEFAULT '',
    routes        TEXT NOT NULL DEFAULT '{}',
    quota         BIGINT NULL,
    max_file_size BIGINT NULL,
    size          BIGINT NOT NULL DEFAULT 0,
    locked        INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    created       TIMESTAMP NOT NULL,
    updated       TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS files_instances (
    id            VARCHAR(36) PRIMARY KEY,
    location      VARCHAR(64) NOT NULL,
    storage_class VARCHAR(32) NOT NULL DEFAULT '',
    storage_key   VARCHAR(255) NOT NULL,
    size          BIGINT NOT NULL,
    md5           VARCHAR(40) NOT NULL DEFAULT '',
    sha256        VARCHAR(80) NOT NULL DEFAULT '',
    status        VARCHAR(16) NOT NULL DEFAULT 'ready',
    last_check    VARCHAR(16) NULL,
    last_check_at TIMESTAMP NULL,
    created       TIMESTAMP NOT NULL,
    updated       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS files_instances_key ON files_instances (location, storage_key);
CREATE INDEX IF NOT EXISTS files_instances_check ON files_instances (last_check_at);

CREATE TABLE IF NOT EXISTS files_objects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id  VARCHAR(36) NOT NULL UNIQUE,
    bucket_id   VARCHAR(36) NOT NULL REFERENCES files_buckets (id) ON DELETE CASCADE,
    object_key  TEXT NOT NULL,
    file_id     VARCHAR(36) NULL REFERENCES files_instances (id),
    mimetype    VARCHAR(255) NOT NULL DEFAULT '',
    is_head     INTEGER NOT NULL,
    created     TIMESTAMP NOT NULL,
    updated     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS files_objects_head ON files_objects (bucket_id, object_key) WHERE is_head;
CREATE INDEX IF NOT EXISTS files_objects_key ON files_objects (bucket_id, object_key, id);
CREATE INDEX IF NOT EXISTS files_objects_file ON files_objects (file_id);

CREATE TABLE IF NOT EXISTS files_uploads (
    id            VARCHAR(36) PRIMARY KEY,
    bucket_id     VARCHAR(36) NOT NULL REFERENCES files_buckets (id) ON DELETE CASCADE,
    object_key    TEXT NOT NULL,
    size          BIGINT NOT NULL,
    part_size     BIGINT NOT NULL,
    location      VARCHAR(64) NOT NULL,
    storage_class VARCHAR(32) NOT NULL DEFAULT '',
    storage_key   VARCHAR(255) NOT NULL,
    native_id     TEXT NOT NULL DEFAULT '',
    mimetype      VARCHAR(255) NOT NULL DEFAULT '',
    status        VARCHAR(16) NOT NULL DEFAULT 'pending',
    created       TIMESTAMP NOT NULL,
    updated       TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS files_uploads_bucket ON files_uploads (bucket_id, object_key);
CREATE INDEX IF NOT EXISTS files_uploads_created ON files_uploads (created);

CREATE TABLE IF NOT EXISTS files_parts (
    upload_id   VARCHAR(36) NOT NULL REFERENCES files_uploads (id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size        BIGINT NOT NULL,
    checksum    VARCHAR(80) NOT NULL DEFAULT '',
    etag        TEXT NOT NULL DEFAULT '',
    created     TIMESTAMP NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

CREATE TABLE IF NOT EXISTS files_tags (
    bucket_id  VARCHAR(36) NOT NULL REFERENCES files_buckets (id) ON DELETE CASCADE,
    version_id VARCHAR(36) NOT NULL DEFAULT '',
    tag_key    VARCHAR(255) NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (bucket_id, version_id, tag_key)
);
