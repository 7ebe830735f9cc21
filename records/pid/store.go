package pid

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the embedded SQL migrations (dirs postgres/, mysql/,
// sqlite/) of the PID tables.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded; cannot happen
	}
	return sub
}

// Store keeps PIDs. It is safe for concurrent use; a Store returned by
// WithTx runs every operation in the caller's transaction.
type Store struct {
	c  *core
	tx *sqlx.Tx
}

type core struct {
	db  *sqlx.DB
	d   sqldb.Dialect
	q   queries
	now func() time.Time
	// counters holds the names of counters whose row is known to exist.
	counters sync.Map
	// skipMigrations: see WithoutMigrations.
	skipMigrations bool
	// ownsDB: opened by Open, so Close closes the database.
	ownsDB    bool
	closeOnce sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*core)

// WithClock sets the function that gives the current time (tests).
func WithClock(now func() time.Time) Option { return func(c *core) { c.now = now } }

// WithoutMigrations makes New skip running the migrations (when the host
// runs Migrations() with its own tooling).
func WithoutMigrations() Option { return func(c *core) { c.skipMigrations = true } }

// Open opens the database at url (sqlite:///path.db, postgres://...,
// mysql://...) and returns a PID store on it, migrated. Close closes the
// database.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	db, err := sqldb.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.c.ownsDB = true
	return s, nil
}

// Close closes the database if the store opened it (Open); a store made by
// New leaves the host's database open and holds nothing else. WithTx views
// share the root's database: close the root store only, after its last
// use. Close is idempotent.
func (s *Store) Close() error {
	s.c.closeOnce.Do(func() {
		if s.c.ownsDB {
			s.c.closeErr = s.c.db.Close()
		}
	})
	return s.c.closeErr
}

// New returns a PID store on the host's database, creating or upgrading the
// tables records_pids, records_pid_redirects and records_pid_counters.
func New(ctx context.Context, db *sqlx.DB, opts ...Option) (*Store, error) {
	d, err := sqldb.DialectOf(db)
	if err != nil {
		return nil, err
	}
	c := &core{db: db, d: d, q: buildQueries(db, d), now: time.Now}
	c.counters.Store(RecidType, true) // created by the migration
	for _, o := range opts {
		o(c)
	}
	if !c.skipMigrations {
		if err := sqldb.Migrate(ctx, db, "records_pid", Migrations()); err != nil {
			return nil, fmt.Errorf("pid: %w", err)
		}
	}
	return &Store{c: c}, nil
}

// DB returns the database handle.
func (s *Store) DB() *sqlx.DB { return s.c.db }

// WithTx returns a view of the store whose operations run in tx.
func (s *Store) WithTx(tx *sqlx.Tx) *Store { return &Store{c: s.c, tx: tx} }

// Tx returns the caller's transaction of a WithTx view, or nil.
func (s *Store) Tx() *sqlx.Tx { return s.tx }

func (s *Store) querier() sqldb.Querier {
	if s.tx != nil {
		return s.tx
	}
	return s.c.db
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqldb.InTx(ctx, s.c.db, s.tx, fn)
}

func (c *core) timestamp() time.Time { return c.now().UTC().Truncate(time.Microsecond) }

const pidColumns = "id, pid_type, pid_value, status, object_type, object_uuid, created, updated"

type queries struct {
	insert         string
	insertReturns  bool
	get            string
	getForUpdate   string
	getByID        string
	byObject       string
	setStatus      string
	setObject      string
	deleteRow      string
	upsertRedirect [2]string // delete then insert
	redirectTarget string
	counterInit    string
	counterNext    string
	counterRead    string
}

func buildQueries(db *sqlx.DB, d sqldb.Dialect) queries {
	rb := db.Rebind
	q := queries{
		insert:         rb("INSERT INTO records_pids (pid_type, pid_value, status, object_type, object_uuid, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		get:            rb("SELECT " + pidColumns + " FROM records_pids WHERE pid_type = ? AND pid_value = ?"),
		getForUpdate:   rb("SELECT " + pidColumns + " FROM records_pids WHERE pid_type = ? AND pid_value = ?" + sqldb.ForUpdate(d)),
		getByID:        rb("SELECT " + pidColumns + " FROM records_pids WHERE id = ?"),
		byObject:       rb("SELECT " + pidColumns + " FROM records_pids WHERE object_type = ? AND object_uuid = ? ORDER BY id"),
		setStatus:      rb("UPDATE records_pids SET status = ?, updated = ? WHERE id = ?"),
		setObject:      rb("UPDATE records_pids SET object_type = ?, object_uuid = ?, updated = ? WHERE id = ?"),
		deleteRow:      rb("DELETE FROM records_pids WHERE id = ?"),
		upsertRedirect: [2]string{rb("DELETE FROM records_pid_redirects WHERE pid_id = ?"), rb("INSERT INTO records_pid_redirects (pid_id, target_id) VALUES (?, ?)")},
		redirectTarget: rb("SELECT target_id FROM records_pid_redirects WHERE pid_id = ?"),
		counterRead:    rb("SELECT value FROM records_pid_counters WHERE name = ?"),
	}
	switch d {
	case sqldb.Postgres:
		q.insert += " RETURNING id"
		q.insertReturns = true
		q.counterInit = "INSERT INTO records_pid_counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING"
		q.counterNext = "UPDATE records_pid_counters SET value = value + 1 WHERE name = $1 RETURNING value"
	case sqldb.MySQL:
		q.counterInit = "INSERT IGNORE INTO records_pid_counters (name, value) VALUES (?, 0)"
		// LAST_INSERT_ID(expr) hands the new value back with the UPDATE's
		// result: one round trip.
		q.counterNext = "UPDATE records_pid_counters SET value = LAST_INSERT_ID(value + 1) WHERE name = ?"
	default:
		q.counterInit = "INSERT OR IGNORE INTO records_pid_counters (name, value) VALUES (?, 0)"
		q.counterNext = "UPDATE records_pid_counters SET value = value + 1 WHERE name = ? RETURNING value"
	}
	return q
}

type scanner interface{ Scan(dest ...any) error }

func scanPID(sc scanner) (*PID, error) {
	var (
		p       PID
		status  string
		objType sql.NullString
		objID   sql.NullString
	)
	if err := sc.Scan(&p.ID, &p.Type, &p.Value, &status, &objType, &objID, &p.Created, &p.Updated); err != nil {
		return nil, err
	}
	p.Status = Status(status)
	p.ObjectType = objType.String
	if objID.Valid && objID.String != "" {
		id, err := uuid.Parse(objID.String)
		if err != nil {
			return nil, fmt.Errorf("pid: bad object uuid %q: %w", objID.String, err)
		}
		p.ObjectID = id
	}
	p.Created, p.Updated = p.Created.UTC(), p.Updated.UTC()
	return &p, nil
}

func (s *Store) getRow(ctx context.Context, q sqldb.Querier, query string, args ...any) (*PID, error) {
	p, err := scanPID(q.QueryRowxContext(ctx, query, args...))
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pid: get: %w", err)
	}
	return p, nil
}
