-- records/pid: persistent identifiers, redirects between them, and the
-- counters minters draw sequential values from.
CREATE TABLE IF NOT EXISTS records_pids (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    pid_type VARCHAR(6) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    pid_value VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    status CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    object_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
    object_uuid CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    created DATETIME(6) NOT NULL,
    updated DATETIME(6) NOT NULL,
    UNIQUE KEY records_pids_type_value (pid_type, pid_value),
    KEY records_pids_object (object_type, object_uuid),
    CONSTRAINT records_pids_status CHECK (status IN ('N', 'K', 'R', 'M', 'D'))
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS records_pid_redirects (
    pid_id BIGINT NOT NULL PRIMARY KEY,
    target_id BIGINT NOT NULL,
    CONSTRAINT records_pid_redirects_pid FOREIGN KEY (pid_id) REFERENCES records_pids (id) ON DELETE CASCADE,
    CONSTRAINT records_pid_redirects_target FOREIGN KEY (target_id) REFERENCES records_pids (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS records_pid_counters (
    name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO records_pid_counters (name, value) VALUES ('recid', 0);
