-- tasks: durable task rows, queue flags, schedule ticks and error history.
-- MySQL commits DDL implicitly, so every statement is idempotent.
CREATE TABLE IF NOT EXISTS tasks_jobs (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    type           VARCHAR(255) NOT NULL,
    queue          VARCHAR(128) NOT NULL,
    state          VARCHAR(16)  NOT NULL,
    priority       INTEGER      NOT NULL DEFAULT 0,
    args           JSON         NOT NULL,
    attempt        INTEGER      NOT NULL DEFAULT 0,
    max_attempts   INTEGER      NOT NULL,
    timeout_ms     BIGINT       NOT NULL DEFAULT 0,
    unique_key     VARCHAR(255) NULL,
    unique_pending VARCHAR(255) NULL,
    run_at         DATETIME(6)  NOT NULL,
    created_at     DATETIME(6)  NOT NULL,
    attempted_at   DATETIME(6)  NULL,
    finished_at    DATETIME(6)  NULL,
    lease_until    DATETIME(6)  NULL,
    dispatched_at  DATETIME(6)  NULL,
    last_error     TEXT         NULL,
    result         JSON         NULL,
    progress       JSON         NULL,
    UNIQUE KEY tasks_jobs_unique_pending (unique_pending),
    KEY tasks_jobs_fetch (queue, state, priority DESC, run_at, id),
    KEY tasks_jobs_lease (state, lease_until),
    KEY tasks_jobs_finished (state, finished_at),
    KEY tasks_jobs_type (type, state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS tasks_errors (
    id      BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    job_id  BIGINT      NOT NULL,
    attempt INTEGER     NOT NULL,
    at      DATETIME(6) NOT NULL,
    error   TEXT        NOT NULL,
    KEY tasks_errors_job (job_id, attempt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS tasks_queues (
    name       VARCHAR(128) NOT NULL PRIMARY KEY,
    paused     BOOLEAN      NOT NULL DEFAULT FALSE,
    updated_at DATETIME(6)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS tasks_schedules (
    name      VARCHAR(255) NOT NULL PRIMARY KEY,
    last_tick BIGINT       NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
