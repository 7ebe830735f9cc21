-- tasks: crashes (lost leases) are counted apart from handler attempts and
-- bounded by max_crashes; scheduled tasks carry the tick they were fired for;
-- error history entries say whether the attempt crashed. (Queues already
-- counts from tasks_jobs_fetch, which starts with (queue, state).)
-- MySQL commits DDL implicitly, so every statement is idempotent (MariaDB).
ALTER TABLE tasks_jobs ADD COLUMN IF NOT EXISTS crashes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks_jobs ADD COLUMN IF NOT EXISTS max_crashes INTEGER NOT NULL DEFAULT 3;
ALTER TABLE tasks_jobs ADD COLUMN IF NOT EXISTS tick_at DATETIME(6) NULL;
ALTER TABLE tasks_errors ADD COLUMN IF NOT EXISTS crash BOOLEAN NOT NULL DEFAULT FALSE;
