package tasks

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrate creates or updates the tasks_ tables in db. New calls it.
func Migrate(ctx context.Context, db *sqlx.DB) error {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return err
	}
	return sqldb.Migrate(ctx, db, "tasks", sub)
}

// store is the SQL side of the package: every statement lives in the store_*
// files, grouped by concern.
type store struct {
	db  *sqlx.DB
	d   sqldb.Dialect
	now func() time.Time
	// autoIncStep is MySQL's auto_increment_increment: ids of one
	// multi-row INSERT are first, first+step, ...
	autoIncStep int64
	// perRowIDs: MySQL with innodb_autoinc_lock_mode = 2 may interleave
	// ids of concurrent multi-row INSERTs, so insertMany goes row by row.
	perRowIDs bool
}

func newStore(db *sqlx.DB) (*store, error) {
	d, err := sqldb.DialectOf(db)
	if err != nil {
		return nil, err
	}
	s := &store{db: db, d: d, now: func() time.Time { return time.Now().UTC() }, autoIncStep: 1}
	if d == sqldb.MySQL {
		var lockMode int
		if err := db.QueryRow("SELECT @@auto_increment_increment, @@innodb_autoinc_lock_mode").Scan(&s.autoIncStep, &lockMode); err != nil {
			return nil, wrapDB("read auto-increment settings", err)
		}
		s.perRowIDs = lockMode == 2
	}
	return s, nil
}

// t converts a time to this dialect's column value.
func (s *store) t(x time.Time) any { return tv(s.d, x) }

// jsonArg passes JSON so every driver stores it as text (lib/pq would send
// []byte as bytea).
func jsonArg(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// jobCols are the columns a worker needs to run a claimed task.
const jobCols = "id, type, queue, args, priority, attempt, max_attempts, crashes, max_crashes, timeout_ms, created_at, tick_at"

type jobRow struct {
	ID          int64  `db:"id"`
	Type        string `db:"type"`
	Queue       string `db:"queue"`
	Args        []byte `db:"args"`
	Priority    int    `db:"priority"`
	Attempt     int    `db:"attempt"`
	MaxAttempts int    `db:"max_attempts"`
	Crashes     int    `db:"crashes"`
	MaxCrashes  int    `db:"max_crashes"`
	TimeoutMS   int64  `db:"timeout_ms"`
	CreatedAt   dbTime `db:"created_at"`
	TickAt      dbTime `db:"tick_at"`
}

// job converts a claimed row. The attempt column counts every run (it is the
// fencing token of the run's outcome); crashed runs are not the handler's
// failures, so the handler sees attempt - crashes.
func (r *jobRow) job() *Job {
	return &Job{
		ID: r.ID, Type: r.Type, Queue: r.Queue, Args: json.RawMessage(r.Args), Priority: r.Priority,
		Attempt: r.Attempt - r.Crashes, MaxAttempts: r.MaxAttempts, Crashes: r.Crashes, MaxCrashes: r.MaxCrashes,
		Timeout: time.Duration(r.TimeoutMS) * time.Millisecond, CreatedAt: r.CreatedAt.T, Tick: r.TickAt.T,
		run: r.Attempt,
	}
}

// infoCols are every column of tasks_jobs, for Get and List.
const infoCols = "id, type, queue, state, priority, args, attempt, max_attempts, crashes, max_crashes, timeout_ms, unique_key, run_at, created_at, attempted_at, finished_at, lease_until, tick_at, last_error, result, progress"

type infoRow struct {
	ID          int64   `db:"id"`
	Type        string  `db:"type"`
	Queue       string  `db:"queue"`
	State       string  `db:"state"`
	Priority    int     `db:"priority"`
	Args        []byte  `db:"args"`
	Attempt     int     `db:"attempt"`
	MaxAttempts int     `db:"max_attempts"`
	Crashes     int     `db:"crashes"`
	MaxCrashes  int     `db:"max_crashes"`
	TimeoutMS   int64   `db:"timeout_ms"`
	UniqueKey   *string `db:"unique_key"`
	RunAt       dbTime  `db:"run_at"`
	CreatedAt   dbTime  `db:"created_at"`
	AttemptedAt dbTime  `db:"attempted_at"`
	FinishedAt  dbTime  `db:"finished_at"`
	LeaseUntil  dbTime  `db:"lease_until"`
	TickAt      dbTime  `db:"tick_at"`
	LastError   *string `db:"last_error"`
	Result      []byte  `db:"result"`
	Progress    []byte  `db:"progress"`
}

func (r *infoRow) info() *Info {
	in := &Info{
		ID: r.ID, Type: r.Type, Queue: r.Queue, State: State(r.State), Priority: r.Priority,
		Args: json.RawMessage(r.Args), Attempt: r.Attempt - r.Crashes, MaxAttempts: r.MaxAttempts,
		Crashes: r.Crashes, MaxCrashes: r.MaxCrashes, Tick: r.TickAt.T,
		Timeout: time.Duration(r.TimeoutMS) * time.Millisecond, RunAt: r.RunAt.T, CreatedAt: r.CreatedAt.T,
		AttemptedAt: r.AttemptedAt.ptr(), FinishedAt: r.FinishedAt.ptr(), LeaseUntil: r.LeaseUntil.ptr(),
	}
	if r.UniqueKey != nil {
		in.UniqueKey = *r.UniqueKey
	}
	if r.LastError != nil {
		in.LastError = *r.LastError
	}
	if len(r.Result) > 0 {
		in.Result = json.RawMessage(r.Result)
	}
	if len(r.Progress) > 0 {
		in.Progress = json.RawMessage(r.Progress)
	}
	return in
}

func wrapDB(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("tasks: %s: %w", op, err)
}
