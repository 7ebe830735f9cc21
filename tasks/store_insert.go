package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// newRow is a task about to be inserted.
type newRow struct {
	Type        string
	Queue       string
	State       State
	Priority    int
	Args        json.RawMessage
	MaxAttempts int
	MaxCrashes  int
	TimeoutMS   int64
	UniqueKey   string
	RunAt       time.Time
	Tick        time.Time // schedule tick; zero if none
}

const insertCols = "(type, queue, state, priority, args, attempt, max_attempts, max_crashes, timeout_ms, unique_key, unique_pending, run_at, created_at, tick_at)"

func (s *store) rowArgs(r *newRow, now time.Time) []any {
	var uk any
	if r.UniqueKey != "" {
		uk = r.UniqueKey
	}
	var tick any
	if !r.Tick.IsZero() {
		tick = s.t(r.Tick)
	}
	return []any{r.Type, r.Queue, string(r.State), r.Priority, string(r.Args), 0, r.MaxAttempts, r.MaxCrashes, r.TimeoutMS, uk, uk, s.t(r.RunAt), s.t(now), tick}
}

const rowPlaceholders = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// insert adds one task in q (the caller's tx or the DB). With a unique key
// already held by a pending or running task it inserts nothing and returns
// that task's id with dup = true.
func (s *store) insert(ctx context.Context, q sqldb.Querier, r *newRow) (id int64, dup bool, err error) {
	now := s.now()
	args := s.rowArgs(r, now)
	for try := 0; try < 3; try++ {
		switch s.d {
		case sqldb.MySQL:
			res, err := q.ExecContext(ctx, "INSERT INTO tasks_jobs "+insertCols+" VALUES "+rowPlaceholders+
				" ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)", args...)
			if err != nil {
				return 0, false, wrapDB("enqueue", err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return 0, false, wrapDB("enqueue", err)
			}
			n, _ := res.RowsAffected()
			return id, n == 0, nil
		default:
			var ids []int64
			err := sqlx.SelectContext(ctx, q, &ids, q.Rebind("INSERT INTO tasks_jobs "+insertCols+" VALUES "+rowPlaceholders+
				" ON CONFLICT (unique_pending) WHERE unique_pending IS NOT NULL DO NOTHING RETURNING id"), args...)
			if err != nil {
				return 0, false, wrapDB("enqueue", err)
			}
			if len(ids) == 1 {
				return ids[0], false, nil
			}
		}
		// A pending task holds the unique key: return its id.
		err := sqlx.GetContext(ctx, q, &id, q.Rebind("SELECT id FROM tasks_jobs WHERE unique_pending = ?"), r.UniqueKey)
		if err == nil {
			return id, true, nil
		}
		if !sqldb.IsNoRows(err) {
			return 0, false, wrapDB("enqueue", err)
		}
		// It finished in between: insert again.
	}
	return 0, false, wrapDB("enqueue", ErrConflict)
}

// insertMany adds tasks without unique keys with multi-row INSERTs and
// returns their ids in order.
func (s *store) insertMany(ctx context.Context, q sqldb.Querier, rows []*newRow) ([]int64, error) {
	now := s.now()
	chunk := 1000
	if s.d == sqldb.Postgres {
		chunk = 4000
	}
	ids := make([]int64, 0, len(rows))
	if s.perRowIDs {
		for _, r := range rows {
			id, _, err := s.insert(ctx, q, r)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO tasks_jobs " + insertCols + " VALUES ")
		args := make([]any, 0, len(part)*14)
		for i, r := range part {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(rowPlaceholders)
			args = append(args, s.rowArgs(r, now)...)
		}
		if s.d == sqldb.MySQL {
			res, err := q.ExecContext(ctx, sb.String(), args...)
			if err != nil {
				return nil, wrapDB("enqueue many", err)
			}
			first, err := res.LastInsertId()
			if err != nil {
				return nil, wrapDB("enqueue many", err)
			}
			// InnoDB gives one multi-row INSERT consecutive ids (in steps
			// of auto_increment_increment) unless innodb_autoinc_lock_mode
			// is 2 with concurrent inserts; check the count to be sure.
			for i := range part {
				ids = append(ids, first+int64(i)*s.autoIncStep)
			}
			if n, _ := res.RowsAffected(); n != int64(len(part)) {
				return nil, wrapDB("enqueue many", fmt.Errorf("inserted %d rows of %d", n, len(part)))
			}
			continue
		}
		sb.WriteString(" RETURNING id")
		var got []int64
		if err := sqlx.SelectContext(ctx, q, &got, q.Rebind(sb.String()), args...); err != nil {
			return nil, wrapDB("enqueue many", err)
		}
		ids = append(ids, got...)
	}
	return ids, nil
}
