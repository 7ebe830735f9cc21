-- files: buckets, object versions, file instances, multipart uploads, tags.
-- Object keys are VARBINARY so that they compare byte by byte (case-sensitive, same order as Go strings).
CREATE TABLE IF NOT EXISTS files_buckets (
    id            VARCHAR(36) NOT NULL PRIMARY KEY,
    location      VARCHAR(64) NOT NULL DEFAULT '',
    storage_class VARCHAR(32) NOT NULL DEFAULT '',
    routes        JSON NOT NULL,
    quota         BIGINT NULL,
    max_file_size BIGINT NULL,
    size          BIGINT NOT NULL DEFAULT 0,
    locked        BOOLEAN NOT NULL DEFAULT FALSE,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    created       DATETIME(6) NOT NULL,
    updated       DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS files_instances (
    id            VARCHAR(36) NOT NULL PRIMARY KEY,
    location      VARCHAR(64) NOT NULL,
    storage_class VARCHAR(32) NOT NULL DEFAULT '',
    storage_key   VARCHAR(255) NOT NULL,
    size          BIGINT NOT NULL,
    md5           VARCHAR(40) NOT NULL DEFAULT '',
    sha256        VARCHAR(80) NOT NULL DEFAULT '',
    status        VARCHAR(16) NOT NULL DEFAULT 'ready',
    last_check    VARCHAR(16) NULL,
    last_check_at DATETIME(6) NULL,
    created       DATETIME(6) NOT NULL,
    updated       DATETIME(6) NOT NULL,
    UNIQUE KEY files_instances_key (location, storage_key),
    KEY files_instances_check (last_check_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS files_objects (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    version_id  VARCHAR(36) NOT NULL,
    bucket_id   VARCHAR(36) NOT NULL,
    object_key  VARBINARY(1024) NOT NULL,
    file_id     VARCHAR(36) NULL,
    mimetype    VARCHAR(255) NOT NULL DEFAULT '',
    is_head     BOOLEAN NOT NULL,
    head_key    VARBINARY(1024) AS (CASE WHEN is_head THEN object_key ELSE NULL END) PERSISTENT,
    created     DATETIME(6) NOT NULL,
    updated     DATETIME(6) NOT NULL,
    UNIQUE KEY files_objects_version (version_id),
    UNIQUE KEY files_objects_head (bucket_id, head_key),
    KEY files_objects_key (bucket_id, object_key, id),
    KEY files_objects_file (file_id),
    CONSTRAINT files_objects_bucket_fk FOREIGN KEY (bucket_id) REFERENCES files_buckets (id) ON DELETE CASCADE,
    CONSTRAINT files_objects_file_fk FOREIGN KEY (file_id) REFERENCES files_instances (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS files_uploads (
    id            VARCHAR(36) NOT NULL PRIMARY KEY,
    bucket_id     VARCHAR(36) NOT NULL,
    object_key    VARBINARY(1024) NOT NULL,
    size          BIGINT NOT NULL,
    part_size     BIGINT NOT NULL,
    location      VARCHAR(64) NOT NULL,
    storage_class VARCHAR(32) NOT NULL DEFAULT '',
    storage_key   VARCHAR(255) NOT NULL,
    native_id     TEXT NOT NULL,
    mimetype      VARCHAR(255) NOT NULL DEFAULT '',
    status        VARCHAR(16) NOT NULL DEFAULT 'pending',
    created       DATETIME(6) NOT NULL,
    updated       DATETIME(6) NOT NULL,
    KEY files_uploads_bucket (bucket_id, object_key),
    KEY files_uploads_created (created),
    CONSTRAINT files_uploads_bucket_fk FOREIGN KEY (bucket_id) REFERENCES files_buckets (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS files_parts (
    upload_id   VARCHAR(36) NOT NULL,
    part_number INTEGER NOT NULL,
    size        BIGINT NOT NULL,
    checksum    VARCHAR(80) NOT NULL DEFAULT '',
    etag        TEXT NOT NULL,
    created     DATETIME(6) NOT NULL,
    PRIMARY KEY (upload_id, part_number),
    CONSTRAINT files_parts_upload_fk FOREIGN KEY (upload_id) REFERENCES files_uploads (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS files_tags (
    bucket_id  VARCHAR(36) NOT NULL,
    version_id VARCHAR(36) NOT NULL DEFAULT '',
    tag_key    VARCHAR(255) NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (bucket_id, version_id, tag_key),
    CONSTRAINT files_tags_bucket_fk FOREIGN KEY (bucket_id) REFERENCES files_buckets (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
