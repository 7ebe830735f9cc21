-- tasks: durable task rows, queue flags, schedule ticks and error history.
-- Times are INTEGER microseconds since the Unix epoch (UTC).
CREATE TABLE IF NOT EXISTS tasks_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    type           TEXT    NOT NULL,
    queue          TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    priority       INTEGER NOT NULL DEFAULT 0,
    args           TEXT    NOT NULL,
    attempt        INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL,
    timeout_ms     INTEGER NOT NULL DEFAULT 0,
    unique_key     TEXT,
    unique_pending TEXT,
    run_at         INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    attempted_at   INTEGER,
    finished_at    INTEGER,
    lease_until    INTEGER,
    dispatched_at  INTEGER,
    last_error     TEXT,
    result         TEXT,
    progress       TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_jobs_unique_pending ON tasks_jobs (unique_pending) WHERE unique_pending IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_jobs_fetch ON tasks_jobs (queue, priority DESC, run_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
CREATE INDEX IF NOT EXISTS tasks_jobs_lease ON tasks_jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS tasks_jobs_finished ON tasks_jobs (finished_at) WHERE state IN ('completed', 'dead', 'cancelled');
CREATE INDEX IF NOT EXISTS tasks_jobs_type ON tasks_jobs (type, priority DESC, run_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
CREATE TABLE IF NOT EXISTS tasks_errors (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id  INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    error   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_errors_job ON tasks_errors (job_id, attempt);
CREATE TABLE IF NOT EXISTS tasks_queues (
    name       TEXT    PRIMARY KEY,
    paused     INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks_schedules (
    name      TEXT    PRIMARY KEY,
    last_tick INTEGER NOT NULL DEFAULT 0
);
