package tasks

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// claimFilter picks which due tasks a fetch may claim.
type claimFilter struct {
	queue        string   // tasks of this queue ("" with onlyType)
	excludeTypes []string // types handled by batch fetchers
	onlyType     string   // a batch handler's type, across queues
	ids          []int64  // broker deliveries: these ids only (with excludeTypes)
}

// claim atomically moves up to n due tasks to running with a lease and
// returns them. PostgreSQL runs one UPDATE over a FOR UPDATE SKIP LOCKED
// subquery; SQLite the same statement (its single writer serializes
// claimers); MySQL selects with SKIP LOCKED and updates in one transaction.
func (s *store) claim(ctx context.Context, f claimFilter, n int, lease time.Duration) ([]*Job, error) {
	now := s.now()
	where, args := s.claimWhere(f, now)
	sub := "SELECT id FROM tasks_jobs WHERE " + where + " ORDER BY priority DESC, run_at, id LIMIT ?" + sqldb.SkipLocked(s.d)
	args = append(args, n)
	set := "state = 'running', attempt = attempt + 1, attempted_at = ?, lease_until = ?"
	setArgs := []any{s.t(now), s.t(now.Add(lease))}

	var rows []jobRow
	if s.d != sqldb.MySQL {
		// PostgreSQL plans "id IN (subquery)" as a hash join over the whole
		// table; "id = ANY(ARRAY(subquery))" looks each id up by key.
		in := "id IN (" + sub + ")"
		if s.d == sqldb.Postgres {
			in = "id = ANY(ARRAY(" + sub + "))"
		}
		q := "UPDATE tasks_jobs SET " + set + " WHERE " + in + " RETURNING " + jobCols
		if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), append(setArgs, args...)...); err != nil {
			return nil, wrapDB("fetch", err)
		}
	} else {
		err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
			rows = rows[:0]
			var ids []int64
			if err := tx.SelectContext(ctx, &ids, sub, args...); err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			q, qa, err := sqldb.In(tx, "UPDATE tasks_jobs SET "+set+" WHERE id IN (?)", append(setArgs, ids)...)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q, qa...); err != nil {
				return err
			}
			q, qa, err = sqldb.In(tx, "SELECT "+jobCols+" FROM tasks_jobs WHERE id IN (?)", ids)
			if err != nil {
				return err
			}
			return tx.SelectContext(ctx, &rows, q, qa...)
		})
		if err != nil {
			return nil, wrapDB("fetch", err)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Priority != rows[j].Priority {
			return rows[i].Priority > rows[j].Priority
		}
		return rows[i].ID < rows[j].ID
	})
	jobs := make([]*Job, len(rows))
	for i := range rows {
		jobs[i] = rows[i].job()
	}
	return jobs, nil
}

// claimWhere is the condition of the tasks a fetch with f may claim at now.
func (s *store) claimWhere(f claimFilter, now time.Time) (string, []any) {
	where := "state IN " + pendingStatesSQL + " AND run_at <= ?"
	args := []any{s.t(now)}
	switch {
	case len(f.ids) > 0:
		where += " AND id IN (?" + strings.Repeat(", ?", len(f.ids)-1) + ") AND queue NOT IN (SELECT name FROM tasks_queues WHERE paused = TRUE)"
		for _, id := range f.ids {
			args = append(args, id)
		}
		where, args = notInTypes(where, args, f.excludeTypes)
	case f.onlyType != "":
		where += " AND type = ? AND queue NOT IN (SELECT name FROM tasks_queues WHERE paused = TRUE)"
		args = append(args, f.onlyType)
	default:
		where += " AND queue = ? AND NOT EXISTS (SELECT 1 FROM tasks_queues WHERE name = ? AND paused = TRUE)"
		args = append(args, f.queue, f.queue)
		where, args = notInTypes(where, args, f.excludeTypes)
	}
	return where, args
}

// skippedDue reports, on MySQL, whether a claim with f that got fewer tasks
// than it asked for left due tasks behind: MySQL's SELECT ... FOR UPDATE SKIP
// LOCKED locks every row its scan passes, so a fetcher of one queue or batch
// type skips the due tasks of another that a concurrent fetcher's scan has
// locked without claiming them. The fetcher then looks again soon instead of
// at the next poll. PostgreSQL locks only the rows it returns and SQLite does
// not skip, so there it is always false.
func (s *store) skippedDue(ctx context.Context, f claimFilter) bool {
	if s.d != sqldb.MySQL {
		return false
	}
	where, args := s.claimWhere(f, s.now())
	return s.anyRow(ctx, where, args)
}

// anyRow reports whether a task matches where, reading without locks; on
// error it says no (the next poll finds them).
func (s *store) anyRow(ctx context.Context, where string, args []any) bool {
	var one []int
	if err := s.db.SelectContext(ctx, &one, s.db.Rebind("SELECT 1 FROM tasks_jobs WHERE "+where+" LIMIT 1"), args...); err != nil {
		return false
	}
	return len(one) > 0
}

// notInTypes appends "AND type NOT IN (...)" for a non-empty list.
func notInTypes(where string, args []any, types []string) (string, []any) {
	if len(types) == 0 {
		return where, args
	}
	where += " AND type NOT IN (?" + strings.Repeat(", ?", len(types)-1) + ")"
	for _, t := range types {
		args = append(args, t)
	}
	return where, args
}
