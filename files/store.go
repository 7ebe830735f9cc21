package files

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/storage"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations returns the package's SQL migrations (dirs postgres/, mysql/,
// sqlite/) for hosts that run migrations themselves.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrationsFS, "migrations")
	return sub
}

// Store is the files metadata store over a SQL database and a set of storage
// locations. It is safe for concurrent use.
type Store struct {
	db    *sqlx.DB
	tx    *sqlx.Tx
	d     sqldb.Dialect
	locs  *storage.Locations
	cfg   *config
	stmts *stmtCache
}

// stmtCache holds the statements of hot read paths, prepared once (and
// then once per connection by database/sql) instead of at every call.
// It is shared by a Store and its WithTx views, and also holds what Close
// needs.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sqlx.Stmt
	closed bool
	ownsDB bool // opened by Open: Close closes the database

	closeOnce sync.Once
	closeErr  error
}

// errStoreClosed reports use of a closed Store's prepared statements.
var errStoreClosed = fmt.Errorf("files: store is closed: %w", sql.ErrConnDone)

func (c *stmtCache) get(ctx context.Context, db *sqlx.DB, query string) (*sqlx.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errStoreClosed
	}
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := db.PreparexContext(ctx, db.Rebind(query))
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sqlx.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

type config struct {
	log            *slog.Logger
	now            func() time.Time
	defaultClass   string
	keyPrefix      string
	skipMigrations bool
	minPartSize    int64
	syncPage       int // page size of Sync and Snapshot listings (tests)
}

// Option configures a Store.
type Option func(*config)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithDefaultStorageClass sets the storage class of buckets created without
// one (default "standard").
func WithDefaultStorageClass(class string) Option { return func(c *config) { c.defaultClass = class } }

// WithKeyPrefix sets the prefix of the storage keys this store writes
// (default "files/"). Garbage collection only looks under this prefix.
func WithKeyPrefix(p string) Option { return func(c *config) { c.keyPrefix = p } }

// WithoutMigrations skips running migrations in New (the host runs them via
// Migrations()).
func WithoutMigrations() Option { return func(c *config) { c.skipMigrations = true } }

// WithMinPartSize sets the smallest multipart part size accepted (default
// DefaultMinPartSize; S3 locations always need DefaultMinPartSize).
func WithMinPartSize(n int64) Option { return func(c *config) { c.minPartSize = max(n, 1) } }

// New returns a Store over the host's database and storage locations (see
// storage.Open), running the package's migrations unless
// WithoutMigrations is given.
func New(ctx context.Context, db *sqlx.DB, locs *storage.Locations, opts ...Option) (*Store, error) {
	cfg := &config{log: slog.Default(), now: time.Now, defaultClass: "standard", keyPrefix: "files/", minPartSize: DefaultMinPartSize}
	for _, o := range opts {
		o(cfg)
	}
	d, err := sqldb.DialectOf(db)
	if err != nil {
		return nil, err
	}
	if locs == nil {
		return nil, fmt.Errorf("%w: files.New needs storage locations", ErrInvalid)
	}
	if !cfg.skipMigrations {
		if err := sqldb.Migrate(ctx, db, "files", Migrations()); err != nil {
			return nil, fmt.Errorf("files: migrate: %w", err)
		}
	}
	return &Store{db: db, d: d, locs: locs, cfg: cfg, stmts: &stmtCache{}}, nil
}

// Open opens the database at dbURL (sqlite:///path.db, postgres://...,
// mysql://...) and returns a Store over it, migrated. Close closes the
// database; the locations stay the caller's to close.
func Open(ctx context.Context, dbURL string, locs *storage.Locations, opts ...Option) (*Store, error) {
	db, err := sqldb.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db, locs, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.stmts.ownsDB = true
	return s, nil
}

// Close releases the store's prepared statements, and closes the database
// if the store opened it (Open). A store made by New leaves the host's
// database open, and no store closes its storage locations (close them
// after the store). WithTx views share what Close releases: close the root
// store only, after its last use. Close is idempotent.
func (s *Store) Close() error {
	c := s.stmts
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		var errs []error
		for _, st := range c.m {
			errs = append(errs, st.Close())
		}
		c.m = nil
		c.mu.Unlock()
		if c.ownsDB {
			errs = append(errs, s.db.Close())
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// DB returns the store's database handle.
func (s *Store) DB() *sqlx.DB { return s.db }

// Locations returns the store's storage locations.
func (s *Store) Locations() *storage.Locations { return s.locs }

// WithTx returns a Store with the same API whose metadata reads and writes
// run in the caller's transaction (the caller commits or rolls back). Bytes
// are still streamed before the metadata statements run; if the caller rolls
// back, bytes written meanwhile become unreferenced and GC removes them.
func (s *Store) WithTx(tx *sqlx.Tx) *Store {
	c := *s
	c.tx = tx
	return &c
}

// q returns the handle reads use: the caller's tx or the database.
func (s *Store) q() sqldb.Querier {
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

// inTx runs fn in the caller's transaction or a new, retried one.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqldb.InTx(ctx, s.db, s.tx, fn)
}

// now returns the current time truncated to microseconds (what every
// supported database keeps).
func (s *Store) now() time.Time { return s.cfg.now().UTC().Truncate(time.Microsecond) }

// ts converts a time for a query argument: SQLite gets fixed-width UTC text
// so that comparisons in SQL order correctly.
func (s *Store) ts(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.d == sqldb.SQLite {
		return t.Format("2006-01-02 15:04:05.000000")
	}
	return t
}
