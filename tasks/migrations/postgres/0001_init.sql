-- tasks: durable task rows, queue flags, schedule ticks and error history.
CREATE TABLE IF NOT EXISTS tasks_jobs (
    id             BIGSERIAL PRIMARY KEY,
    type           VARCHAR(255) NOT NULL,
    queue          VARCHAR(128) NOT NULL,
    state          VARCHAR(16)  NOT NULL,
    priority       INTEGER      NOT NULL DEFAULT 0,
    args           JSONB        NOT NULL,
    attempt        INTEGER      NOT NULL DEFAULT 0,
    max_attempts   INTEGER      NOT NULL,
    timeout_ms     BIGINT       NOT NULL DEFAULT 0,
    unique_key     VARCHAR(255),
    unique_pending VARCHAR(255),
    run_at         TIMESTAMPTZ  NOT NULL,
    created_at     TIMESTAMPTZ  NOT NULL,
    attempted_at   TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    lease_until    TIMESTAMPTZ,
    dispatched_at  TIMESTAMPTZ,
    last_error     TEXT,
    result         JSONB,
    progress       JSONB
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_jobs_unique_pending ON tasks_jobs (unique_pending) WHERE unique_pending IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_jobs_fetch ON tasks_jobs (queue, priority DESC, run_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
CREATE INDEX IF NOT EXISTS tasks_jobs_lease ON tasks_jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS tasks_jobs_finished ON tasks_jobs (finished_at) WHERE state IN ('completed', 'dead', 'cancelled');
CREATE INDEX IF NOT EXISTS tasks_jobs_type ON tasks_jobs (type, priority DESC, run_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
CREATE TABLE IF NOT EXISTS tasks_errors (
    id      BIGSERIAL PRIMARY KEY,
    job_id  BIGINT      NOT NULL,
    attempt INTEGER     NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    error   TEXT        NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_errors_job ON tasks_errors (job_id, attempt);
CREATE TABLE IF NOT EXISTS tasks_queues (
    name       VARCHAR(128) PRIMARY KEY,
    paused     BOOLEAN      NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ  NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks_schedules (
    name      VARCHAR(255) PRIMARY KEY,
    last_tick BIGINT       NOT NULL DEFAULT 0
);
