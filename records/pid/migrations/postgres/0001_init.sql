-- records/pid: persistent identifiers, redirects between them, and the
-- counters minters draw sequential values from.
CREATE TABLE IF NOT EXISTS records_pids (
    id BIGSERIAL PRIMARY KEY,
    pid_type VARCHAR(6) NOT NULL,
    pid_value VARCHAR(255) NOT NULL,
    status CHAR(1) NOT NULL,
    object_type VARCHAR(32),
    object_uuid UUID,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL,
    CONSTRAINT records_pids_type_value UNIQUE (pid_type, pid_value),
    CONSTRAINT records_pids_status CHECK (status IN ('N', 'K', 'R', 'M', 'D'))
);
CREATE INDEX IF NOT EXISTS records_pids_object ON records_pids (object_type, object_uuid);
CREATE TABLE IF NOT EXISTS records_pid_redirects (
    pid_id BIGINT PRIMARY KEY REFERENCES records_pids (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES records_pids (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS records_pid_counters (
    name VARCHAR(64) PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO records_pid_counters (name, value) VALUES ('recid', 0) ON CONFLICT (name) DO NOTHING;
