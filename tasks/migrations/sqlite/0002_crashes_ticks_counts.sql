-- tasks: crashes (lost leases) are counted apart from handler attempts and
-- bounded by max_crashes; scheduled tasks carry the tick they were fired for;
-- error history entries say whether the attempt crashed; Queues counts by
-- (queue, state) from an index instead of the table.
ALTER TABLE tasks_jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks_jobs ADD COLUMN max_crashes INTEGER NOT NULL DEFAULT 3;
ALTER TABLE tasks_jobs ADD COLUMN tick_at INTEGER;
ALTER TABLE tasks_errors ADD COLUMN crash INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS tasks_jobs_queue_state ON tasks_jobs (queue, state);
