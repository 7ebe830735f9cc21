package tasks

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// completion is a successful run waiting to be written.
type completion struct {
	id      int64
	attempt int
	result  json.RawMessage
	after   func() // called once the completion is committed (or given up)
}

// completeMany marks runs completed and clears last_error: earlier failures
// and crashes stay in the history (tasks_errors) only. Runs without a result are written with
// one UPDATE per batch; each (id, attempt) pair fences out a stale worker
// whose lease was taken over.
func (s *store) completeMany(ctx context.Context, cs []completion) error {
	now := s.t(s.now())
	var plain []completion
	for _, c := range cs {
		if c.result == nil {
			plain = append(plain, c)
			continue
		}
		if _, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE tasks_jobs SET state = 'completed', finished_at = ?, lease_until = NULL, unique_pending = NULL, last_error = NULL, result = ? WHERE id = ? AND attempt = ? AND state = 'running'"),
			now, jsonArg(c.result), c.id, c.attempt); err != nil {
			return wrapDB("complete", err)
		}
	}
	for start := 0; start < len(plain); start += 1000 {
		part := plain[start:min(start+1000, len(plain))]
		var sb strings.Builder
		args := make([]any, 0, 1+2*len(part))
		args = append(args, now)
		if s.d == sqldb.Postgres {
			// A join on unnested arrays: key lookups, one stable statement.
			ids := make([]int64, len(part))
			atts := make([]int64, len(part))
			for i, c := range part {
				ids[i], atts[i] = c.id, int64(c.attempt)
			}
			sb.WriteString("UPDATE tasks_jobs AS j SET state = 'completed', finished_at = ?, lease_until = NULL, unique_pending = NULL, last_error = NULL FROM unnest(?::bigint[], ?::int[]) AS u(id, attempt) WHERE j.id = u.id AND j.attempt = u.attempt AND j.state = 'running'")
			args = append(args, pqInt64Array(ids), pqInt64Array(atts))
		} else {
			sb.WriteString("UPDATE tasks_jobs SET state = 'completed', finished_at = ?, lease_until = NULL, unique_pending = NULL, last_error = NULL WHERE state = 'running' AND (id, attempt) IN (")
			for i, c := range part {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("(?, ?)")
				args = append(args, c.id, c.attempt)
			}
			sb.WriteString(")")
		}
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(sb.String()), args...); err != nil {
			return wrapDB("complete", err)
		}
	}
	return nil
}

// failure is an unsuccessful run: the task goes to state (retryable, dead or
// cancelled) and its error is recorded in the history.
type failure struct {
	id      int64
	run     int // fencing token: the attempt column of this run
	attempt int // handler attempt, recorded in the history
	state   State
	runAt   time.Time // for retryable
	err     string
}

func (s *store) fail(ctx context.Context, f failure) error {
	now := s.now()
	return wrapDB("record failure", sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		var q string
		var args []any
		if f.state == StateRetryable {
			q = "UPDATE tasks_jobs SET state = 'retryable', run_at = ?, lease_until = NULL, dispatched_at = NULL, last_error = ? WHERE id = ? AND attempt = ? AND state = 'running'"
			args = []any{s.t(f.runAt), f.err, f.id, f.run}
		} else {
			q = "UPDATE tasks_jobs SET state = ?, finished_at = ?, lease_until = NULL, dispatched_at = NULL, unique_pending = NULL, last_error = ? WHERE id = ? AND attempt = ? AND state = 'running'"
			args = []any{string(f.state), s.t(now), f.err, f.id, f.run}
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // lease lost: the new owner records the outcome
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO tasks_errors (job_id, attempt, at, error) VALUES (?, ?, ?, ?)"), f.id, f.attempt, s.t(now), f.err)
		return err
	}))
}

// snooze puts a running task back to scheduled without using an attempt.
func (s *store) snooze(ctx context.Context, id int64, attempt int, runAt time.Time) error {
	return wrapDB("snooze", s.exec(ctx, s.db.Rebind("UPDATE tasks_jobs SET state = 'scheduled', attempt = attempt - 1, run_at = ?, lease_until = NULL, dispatched_at = NULL WHERE id = ? AND attempt = ? AND state = 'running'"),
		s.t(runAt), id, attempt))
}

// exec runs one statement in its own transaction, retrying deadlocks and
// busy errors (MySQL deadlocks with concurrent claimers are routine).
func (s *store) exec(ctx context.Context, q string, args ...any) error {
	_, err := s.execN(ctx, q, args...)
	return err
}

// execN is exec returning the number of rows affected.
func (s *store) execN(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// release hands running tasks back at once (graceful shutdown past its
// deadline) without using an attempt.
func (s *store) release(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqldb.In(s.db, "UPDATE tasks_jobs SET state = 'available', attempt = attempt - 1, run_at = ?, lease_until = NULL, dispatched_at = NULL, last_error = 'released: worker shut down before the task finished' WHERE state = 'running' AND id IN (?)", s.t(s.now()), ids)
	if err != nil {
		return err
	}
	return wrapDB("release", s.exec(ctx, q, args...))
}

// heartbeat extends the leases of tasks this client is running.
func (s *store) heartbeat(ctx context.Context, ids []int64, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqldb.In(s.db, "UPDATE tasks_jobs SET lease_until = ? WHERE state = 'running' AND id IN (?)", s.t(until), ids)
	if err != nil {
		return err
	}
	return wrapDB("heartbeat", s.exec(ctx, q, args...))
}

// crashReason is the error recorded for a run whose lease expired.
const crashReason = "lease expired: the worker stopped heartbeating (crashed or killed)"

// rescue takes back running tasks whose lease expired (their worker died).
// A crash is not the handler's failure: it does not use an attempt (the
// handler sees the same Attempt again) but counts towards max_crashes; the
// task goes dead at its max_crashes-th crash, retryable (due now) before.
// Every crash is recorded in the error history.
func (s *store) rescue(ctx context.Context) (int64, error) {
	now := s.now()
	var total int64
	err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		total = 0
		var rows []struct {
			ID         int64 `db:"id"`
			Attempt    int   `db:"attempt"`
			Crashes    int   `db:"crashes"`
			MaxCrashes int   `db:"max_crashes"`
		}
		if err := tx.SelectContext(ctx, &rows, tx.Rebind("SELECT id, attempt, crashes, max_crashes FROM tasks_jobs WHERE state = 'running' AND lease_until < ? ORDER BY id"), s.t(now)); err != nil {
			return err
		}
		for _, r := range rows {
			// Guarded by state and lease: a heartbeat or another rescuer
			// may have got there first.
			var res sql.Result
			var err error
			if r.Crashes+1 >= r.MaxCrashes {
				res, err = tx.ExecContext(ctx, tx.Rebind("UPDATE tasks_jobs SET state = 'dead', crashes = crashes + 1, finished_at = ?, unique_pending = NULL, lease_until = NULL, dispatched_at = NULL, last_error = ? WHERE id = ? AND attempt = ? AND state = 'running' AND lease_until < ?"),
					s.t(now), crashReason, r.ID, r.Attempt, s.t(now))
			} else {
				res, err = tx.ExecContext(ctx, tx.Rebind("UPDATE tasks_jobs SET state = 'retryable', crashes = crashes + 1, run_at = ?, lease_until = NULL, dispatched_at = NULL, last_error = ? WHERE id = ? AND attempt = ? AND state = 'running' AND lease_until < ?"),
					s.t(now), crashReason, r.ID, r.Attempt, s.t(now))
			}
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO tasks_errors (job_id, attempt, at, error, crash) VALUES (?, ?, ?, ?, ?)"),
				r.ID, r.Attempt-r.Crashes, s.t(now), crashReason, true); err != nil {
				return err
			}
			total++
		}
		return nil
	})
	return total, wrapDB("rescue", err)
}
