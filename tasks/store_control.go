package tasks

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

func (s *store) clean(ctx context.Context, completedBefore, deadBefore time.Time) (int64, error) {
	var n int64
	cond := "(state = 'completed' AND finished_at < ?) OR (state IN ('dead', 'cancelled') AND finished_at < ?)"
	args := []any{s.t(completedBefore), s.t(deadBefore)}
	err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM tasks_errors WHERE job_id IN (SELECT id FROM tasks_jobs WHERE "+cond+")"), args...); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM tasks_jobs WHERE "+cond), args...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, wrapDB("clean", err)
}

func (s *store) setPaused(ctx context.Context, queue string, paused bool) error {
	now := s.t(s.now())
	var q string
	switch s.d {
	case sqldb.MySQL:
		q = "INSERT INTO tasks_queues (name, paused, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE paused = VALUES(paused), updated_at = VALUES(updated_at)"
	default:
		q = "INSERT INTO tasks_queues (name, paused, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at"
	}
	return wrapDB("pause queue", s.exec(ctx, s.db.Rebind(q), queue, paused, now))
}

type countRow struct {
	Queue string `db:"queue"`
	State string `db:"state"`
	N     int64  `db:"n"`
}

func (s *store) counts(ctx context.Context) ([]countRow, map[string]bool, error) {
	var rows []countRow
	if err := s.db.SelectContext(ctx, &rows, "SELECT queue, state, COUNT(*) AS n FROM tasks_jobs GROUP BY queue, state"); err != nil {
		return nil, nil, wrapDB("count tasks", err)
	}
	var qs []struct {
		Name   string `db:"name"`
		Paused bool   `db:"paused"`
	}
	if err := s.db.SelectContext(ctx, &qs, "SELECT name, paused FROM tasks_queues"); err != nil {
		return nil, nil, wrapDB("list queues", err)
	}
	paused := map[string]bool{}
	for _, q := range qs {
		paused[q.Name] = q.Paused
	}
	return rows, paused, nil
}

func (s *store) get(ctx context.Context, q sqldb.Querier, id int64) (*Info, error) {
	var r infoRow
	err := q.GetContext(ctx, &r, q.Rebind("SELECT "+infoCols+" FROM tasks_jobs WHERE id = ?"), id)
	if sqldb.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, wrapDB("get task", err)
	}
	return r.info(), nil
}

func (s *store) errorsOf(ctx context.Context, id int64) ([]AttemptError, error) {
	var rows []struct {
		Attempt int    `db:"attempt"`
		At      dbTime `db:"at"`
		Error   string `db:"error"`
		Crash   bool   `db:"crash"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind("SELECT attempt, at, error, crash FROM tasks_errors WHERE job_id = ? ORDER BY id"), id); err != nil {
		return nil, wrapDB("task errors", err)
	}
	out := make([]AttemptError, len(rows))
	for i, r := range rows {
		out[i] = AttemptError{Attempt: r.Attempt, At: r.At.T, Error: r.Error, Crash: r.Crash}
	}
	return out, nil
}

func (s *store) list(ctx context.Context, p ListParams) ([]*Info, error) {
	where := "id > ?"
	args := []any{p.AfterID}
	if p.Queue != "" {
		where += " AND queue = ?"
		args = append(args, p.Queue)
	}
	if p.State != "" {
		where += " AND state = ?"
		args = append(args, string(p.State))
	}
	if p.Type != "" {
		where += " AND type = ?"
		args = append(args, p.Type)
	}
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	args = append(args, limit)
	var rows []infoRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind("SELECT "+infoCols+" FROM tasks_jobs WHERE "+where+" ORDER BY id LIMIT ?"), args...); err != nil {
		return nil, wrapDB("list tasks", err)
	}
	out := make([]*Info, len(rows))
	for i := range rows {
		out[i] = rows[i].info()
	}
	return out, nil
}

// retry makes a task that is not running due now; finished tasks start a
// fresh round of attempts.
func (s *store) retry(ctx context.Context, id int64) error {
	return sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		in, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.State == StateRunning {
			return ErrConflict
		}
		// A finished task starts a fresh round of attempts and crashes;
		// a pending one keeps its counts.
		counts := ""
		if in.State.Final() {
			counts = "attempt = 0, crashes = 0, "
		}
		var uk any
		if in.UniqueKey != "" {
			uk = in.UniqueKey
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("UPDATE tasks_jobs SET state = 'available', "+counts+"run_at = ?, finished_at = NULL, dispatched_at = NULL, unique_pending = ? WHERE id = ? AND state = ?"),
			s.t(s.now()), uk, id, string(in.State))
		if sqldb.IsUniqueViolation(err) {
			return ErrConflict
		}
		return err
	})
}

// cancel moves a pending or running task to cancelled.
func (s *store) cancel(ctx context.Context, id int64) error {
	now := s.t(s.now())
	n, err := s.execN(ctx, s.db.Rebind("UPDATE tasks_jobs SET state = 'cancelled', finished_at = ?, lease_until = NULL, unique_pending = NULL, last_error = 'cancelled by hand' WHERE id = ? AND state IN ('available', 'scheduled', 'retryable', 'running')"), now, id)
	if err != nil {
		return wrapDB("cancel", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.get(ctx, s.db, id); err != nil {
		return err
	}
	return ErrConflict
}

func (s *store) setProgress(ctx context.Context, id int64, v json.RawMessage) error {
	n, err := s.execN(ctx, s.db.Rebind("UPDATE tasks_jobs SET progress = ? WHERE id = ? AND state = 'running'"), jsonArg(v), id)
	if err != nil {
		return wrapDB("set progress", err)
	}
	if n == 0 {
		return ErrConflict
	}
	return nil
}

func (s *store) setResult(ctx context.Context, id int64, v json.RawMessage) error {
	res, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE tasks_jobs SET result = ? WHERE id = ?"), jsonArg(v), id)
	if err != nil {
		return wrapDB("set result", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// fireTick claims schedule tick for name: it returns true for exactly one
// caller per (name, tick), inside tx so the enqueue commits with the claim.
func (s *store) fireTick(ctx context.Context, tx *sqlx.Tx, name string, tick int64) (bool, error) {
	ins := "INSERT INTO tasks_schedules (name, last_tick) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"
	if s.d == sqldb.MySQL {
		ins = "INSERT IGNORE INTO tasks_schedules (name, last_tick) VALUES (?, 0)"
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(ins), name); err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE tasks_schedules SET last_tick = ? WHERE name = ? AND last_tick < ?"), tick, name, tick)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
