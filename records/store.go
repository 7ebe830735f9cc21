package records

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the embedded SQL migrations (dirs postgres/, mysql/,
// sqlite/), for hosts that run migrations with their own tooling.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded; cannot happen
	}
	return sub
}

// Store reads and writes records. It is safe for concurrent use. A Store
// returned by WithTx runs every operation in the caller's transaction.
type Store struct {
	c  *core
	tx *sqlx.Tx
}

// core is what a Store and all its WithTx views share.
type core struct {
	db      *sqlx.DB
	d       sqldb.Dialect
	q       queries
	maxSize int
	schemas *schemaRegistry
	hooks   *hookRegistry
	log     *slog.Logger
	now     func() time.Time
	st      statements
	prepare bool
	ownsDB  bool
	// defaultSchema validates documents without "$schema"; requireSchema
	// refuses them (see schemapolicy.go).
	defaultSchema string
	requireSchema bool
}

// Open opens the database at url (sqlite:///path.db, postgres://...,
// mysql://...) and returns a store on it, migrated. Close closes the
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

// New returns a store on the host's database, creating or upgrading the
// records tables first (safe when several processes start at once).
func New(ctx context.Context, db *sqlx.DB, opts ...Option) (*Store, error) {
	cfg := config{maxSize: DefaultMaxSize, migrate: true, prepare: true}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.maxSize <= 0 {
		return nil, fmt.Errorf("records: max size must be positive, got %d", cfg.maxSize)
	}
	d, err := sqldb.DialectOf(db)
	if err != nil {
		return nil, err
	}
	if cfg.migrate {
		if err := sqldb.Migrate(ctx, db, "records", Migrations()); err != nil {
			return nil, fmt.Errorf("records: %w", err)
		}
	}
	c := &core{
		db:      db,
		d:       d,
		q:       buildQueries(db, d),
		maxSize: cfg.maxSize,
		schemas: newSchemaRegistry(),
		hooks:   &hookRegistry{},
		log:     cfg.logger,
		now:     cfg.now,
		prepare: cfg.prepare,

		defaultSchema: cfg.defaultSchema,
		requireSchema: cfg.requireSchema,
	}
	c.st = newStatements(c.q)
	for _, src := range cfg.schemas {
		if err := c.schemas.register(src.uri, src.doc); err != nil {
			return nil, err
		}
	}
	if err := c.checkSchemaPolicy(); err != nil {
		return nil, err
	}
	return &Store{c: c}, nil
}

// DB returns the database handle the store uses.
func (s *Store) DB() *sqlx.DB { return s.c.db }

// WithTx returns a view of the store whose every operation runs in tx; the
// caller commits or rolls back. Hooks and schemas are shared with s.
func (s *Store) WithTx(tx *sqlx.Tx) *Store { return &Store{c: s.c, tx: tx} }

// Tx returns the caller's transaction of a WithTx view, or nil.
func (s *Store) Tx() *sqlx.Tx { return s.tx }

// querier is the handle reads run on: the caller's transaction or the DB.
func (s *Store) querier() sqldb.Querier {
	if s.tx != nil {
		return s.tx
	}
	return s.c.db
}

// inTx runs fn in the caller's transaction or in a new, retried one.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqldb.InTx(ctx, s.c.db, s.tx, fn)
}

// timestamp returns the current time as stored: UTC, microseconds.
func (c *core) timestamp() time.Time {
	return c.now().UTC().Truncate(time.Microsecond)
}
