// Package tasks runs background work: named task types with typed handlers,
// queues with per-queue concurrency, retries with backoff, a dead state,
// periodic schedules, results and progress, and queue control.
//
// The durable store is SQL (SQLite, PostgreSQL, MySQL/MariaDB) through the
// host's *sqlx.DB. Tasks can be enqueued inside the host's transaction
// through a WithTx view, as with records, records/pid and files, so a record
// write and its task commit or roll back together: this is the outbox other
// RepoKit packages build on. In a transaction of sqltx.InTx or sqltx.Begin
// the workers are woken once it commits:
//
//	err := sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
//		rec, err := recs.WithTx(tx).Create(ctx, doc)
//		if err != nil {
//			return err
//		}
//		_, err = c.WithTx(tx).Enqueue(ctx, "doi.register", rec.ID)
//		return err
//	})
//
// Workers fetch due tasks in batches (FOR UPDATE SKIP LOCKED on PostgreSQL and
// MySQL, a single write statement on SQLite) and hold a lease on each task,
// extended by a heartbeat. A task whose worker died is rescued when its lease
// expires and runs again: delivery is at-least-once and a committed task is
// never lost. A crash is not the handler's failure: it is recorded in the
// task's error history (Info.Errors, with Crash set) but does not use one of
// the task's MaxAttempts, so even a MaxAttempts(1) task runs again after its
// worker died. Crashes have their own bound, MaxCrashes (default 3), so that
// a task that kills every worker running it goes dead instead of looping.
// LastError is the error a pending, dead or cancelled task is in; a completed
// task has none (its earlier failures stay in the history).
//
// Scheduled tasks (Schedule) carry the tick they were fired for in
// Task.Tick, for handlers that must be idempotent per tick.
//
// Optionally a message broker (see Broker) carries "task is due" messages to
// many worker machines; the SQL store stays the single source of truth for
// state, delays, retries, schedules and uniqueness.
//
//	c, _ := tasks.New(ctx, db, tasks.WithQueue("default", 20))
//	tasks.Register(c, "email.send", func(ctx context.Context, t *tasks.Task[Email]) error { ... })
//	_ = c.Start(ctx)
//	id, _ := c.Enqueue(ctx, "email.send", Email{To: "a@b.c"}, tasks.MaxAttempts(5))
package tasks
