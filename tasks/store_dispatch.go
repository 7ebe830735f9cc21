package tasks

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

type dueRow struct {
	ID    int64  `db:"id"`
	Queue string `db:"queue"`
}

// dispatch marks up to n due tasks as handed to the broker and returns them.
// Tasks dispatched more than redeliver ago and still pending are returned
// again (their message was lost).
func (s *store) dispatch(ctx context.Context, n int, redeliver time.Duration, excludeTypes []string) ([]dueRow, error) {
	now := s.now()
	var rows []dueRow
	err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		rows = rows[:0]
		where, args := s.dispatchWhere(now, redeliver, excludeTypes)
		q := "SELECT id, queue FROM tasks_jobs WHERE " + where + " ORDER BY priority DESC, run_at, id LIMIT ?" + sqldb.SkipLocked(s.d)
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), append(args, n)...); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		uq, args, err := sqldb.In(tx, "UPDATE tasks_jobs SET dispatched_at = ? WHERE id IN (?)", s.t(now), ids)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, uq, args...)
		return err
	})
	return rows, wrapDB("dispatch", err)
}

// dispatchWhere is the condition of the tasks the relay publishes at now.
func (s *store) dispatchWhere(now time.Time, redeliver time.Duration, excludeTypes []string) (string, []any) {
	where := "state IN " + pendingStatesSQL + " AND run_at <= ? AND (dispatched_at IS NULL OR dispatched_at < ?) AND queue NOT IN (SELECT name FROM tasks_queues WHERE paused = TRUE)"
	args := []any{s.t(now), s.t(now.Add(-redeliver))}
	return notInTypes(where, args, excludeTypes)
}

// skippedDispatch is skippedDue for the relay: on MySQL, whether a dispatch
// that returned fewer tasks than it asked for left some behind under
// another transaction's row locks.
func (s *store) skippedDispatch(ctx context.Context, redeliver time.Duration, excludeTypes []string) bool {
	if s.d != sqldb.MySQL {
		return false
	}
	where, args := s.dispatchWhere(s.now(), redeliver, excludeTypes)
	return s.anyRow(ctx, where, args)
}

// undispatch clears the dispatch mark of tasks whose publish failed.
func (s *store) undispatch(ctx context.Context, ids []int64) error {
	q, args, err := sqldb.In(s.db, "UPDATE tasks_jobs SET dispatched_at = NULL WHERE id IN (?)", ids)
	if err != nil {
		return err
	}
	return wrapDB("undispatch", s.exec(ctx, q, args...))
}
