-- records/pid: persistent identifiers, redirects between them, and the
-- counters minters draw sequential values from.
CREATE TABLE IF NOT EXISTS records_pids (
    id INTEGER PRIMARY KEY,
    pid_type TEXT NOT NULL CHECK (length(pid_type) <= 6),
    pid_value TEXT NOT NULL CHECK (length(pid_value) <= 255),
    status TEXT NOT NULL CHECK (status IN ('N', 'K', 'R', 'M', 'D')),
    object_type TEXT,
    object_uuid TEXT,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL,
    UNIQUE (pid_type, pid_value)
);
CREATE INDEX IF NOT EXISTS records_pids_object ON records_pids (object_type, object_uuid);
CREATE TABLE IF NOT EXISTS records_pid_redirects (
    pid_id INTEGER PRIMARY KEY REFERENCES records_pids (id) ON DELETE CASCADE,
    target_id INTEGER NOT NULL REFERENCES records_pids (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS records_pid_counters (
    name TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO records_pid_counters (name, value) VALUES ('recid', 0);
