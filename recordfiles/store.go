package recordfiles

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/records"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the package's SQL migrations (dirs postgres/, mysql/,
// sqlite/) for hosts that run migrations themselves.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // embedded; cannot happen
	}
	return sub
}

// ErrNotFound: the record has no bucket (or no such record). It matches
// files.ErrNotFound and records.ErrNotFound (kind repokit.ErrNotFound).
var ErrNotFound = repokit.NewError("recordfiles: the record has no files bucket", files.ErrNotFound, records.ErrNotFound)

// Option configures a Store.
type Option func(*config)

type config struct {
	migrate bool
	bucket  files.BucketOptions
}

// WithoutMigrations makes New skip creating the recordfiles_buckets table.
func WithoutMigrations() Option { return func(c *config) { c.migrate = false } }

// WithBucketOptions sets the options of the buckets Create and CreateBucket
// make (location, quota, max file size...).
func WithBucketOptions(o files.BucketOptions) Option { return func(c *config) { c.bucket = o } }

// Store links records to buckets. It is safe for concurrent use; a Store
// returned by WithTx runs every operation in the caller's transaction.
type Store struct {
	recs  *records.Store
	files *files.Store
	cfg   config
	tx    *sqlx.Tx
}

// New returns a Store over the host's records and files stores (which must
// share one database) and registers hooks on recs so that deleting,
// undeleting and purging a record does the same to its bucket in the same
// transaction. Create one Store per records store.
func New(ctx context.Context, recs *records.Store, fstore *files.Store, opts ...Option) (*Store, error) {
	if recs == nil || fstore == nil {
		return nil, errors.New("recordfiles: New needs a records store and a files store")
	}
	if recs.DB() != fstore.DB() {
		return nil, errors.New("recordfiles: the records and files stores must share one *sqlx.DB (one transaction spans both)")
	}
	cfg := config{migrate: true}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.migrate {
		if err := sqldb.Migrate(ctx, recs.DB(), "recordfiles", Migrations()); err != nil {
			return nil, fmt.Errorf("recordfiles: %w", err)
		}
	}
	s := &Store{recs: recs, files: fstore, cfg: cfg}
	recs.On(records.After, records.OpDelete, s.onDelete)
	recs.On(records.After, records.OpUndelete, s.onUndelete)
	recs.On(records.After, records.OpPurge, s.onPurge)
	return s, nil
}

// WithTx returns a view of s whose operations run in tx.
func (s *Store) WithTx(tx *sqlx.Tx) *Store {
	c := *s
	c.tx = tx
	return &c
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqldb.InTx(ctx, s.recs.DB(), s.tx, fn)
}

func (s *Store) querier() sqldb.Querier {
	if s.tx != nil {
		return s.tx
	}
	return s.recs.DB()
}

// Create creates a record from doc and its bucket in one transaction.
func (s *Store) Create(ctx context.Context, doc json.RawMessage, opts ...records.CreateOption) (*records.Record, *files.Bucket, error) {
	var (
		rec *records.Record
		b   *files.Bucket
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if rec, err = s.recs.WithTx(tx).Create(ctx, doc, opts...); err != nil {
			return err
		}
		b, err = s.WithTx(tx).CreateBucket(ctx, rec.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return rec, b, nil
}

// CreateBucket creates the bucket of an existing record (in the record's
// transaction when s is a WithTx view). A record that already has one fails
// with records.ErrConflict.
func (s *Store) CreateBucket(ctx context.Context, recordID uuid.UUID) (*files.Bucket, error) {
	var b *files.Bucket
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.recs.WithTx(tx).Get(ctx, recordID); err != nil {
			return err
		}
		var err error
		if b, err = s.files.WithTx(tx).CreateBucket(ctx, s.cfg.bucket); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO recordfiles_buckets (record_id, bucket_id) VALUES (?, ?)"),
			recordID.String(), b.ID)
		if sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("%w: record %s already has a bucket", records.ErrConflict, recordID)
		}
		if err != nil {
			return fmt.Errorf("recordfiles: link bucket: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// BucketID returns the id of the record's bucket, or ErrNotFound.
func (s *Store) BucketID(ctx context.Context, recordID uuid.UUID) (string, error) {
	return s.bucketID(ctx, s.querier(), recordID)
}

func (s *Store) bucketID(ctx context.Context, q sqldb.Querier, recordID uuid.UUID) (string, error) {
	var id string
	err := q.GetContext(ctx, &id, q.Rebind("SELECT bucket_id FROM recordfiles_buckets WHERE record_id = ?"), recordID.String())
	if sqldb.IsNoRows(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("recordfiles: find bucket: %w", err)
	}
	return id, nil
}

// Bucket returns the record's bucket (Deleted set when the record is
// deleted), or ErrNotFound.
func (s *Store) Bucket(ctx context.Context, recordID uuid.UUID) (*files.Bucket, error) {
	id, err := s.BucketID(ctx, recordID)
	if err != nil {
		return nil, err
	}
	return s.files.WithTx(s.tx).Bucket(ctx, id)
}

// BucketResolver returns a function for fileshttp.WithBucketResolver: it
// reads the record id from the request's path value named param (as set
// by a pattern such as "/api/records/{id}/files/{key...}") and returns the
// record's bucket id. A record that is missing, deleted or has no bucket
// gives an error matching files.ErrNotFound (404).
func (s *Store) BucketResolver(param string) func(r *http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		id, err := uuid.Parse(r.PathValue(param))
		if err != nil {
			return "", ErrNotFound
		}
		if _, err := s.recs.Get(r.Context(), id); err != nil {
			if errors.Is(err, records.ErrNotFound) {
				return "", ErrNotFound
			}
			return "", err
		}
		return s.BucketID(r.Context(), id)
	}
}

// The cascade hooks run in the record operation's transaction.

func (s *Store) onDelete(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
	return s.cascade(ctx, tx, ev, func(fs *files.Store, id string) error { return fs.DeleteBucket(ctx, id) })
}

func (s *Store) onUndelete(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
	return s.cascade(ctx, tx, ev, func(fs *files.Store, id string) error { return fs.UndeleteBucket(ctx, id) })
}

func (s *Store) onPurge(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
	return s.cascade(ctx, tx, ev, func(fs *files.Store, id string) error {
		if err := fs.PurgeBucket(ctx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM recordfiles_buckets WHERE record_id = ?"), ev.Record.ID.String())
		return err
	})
}

func (s *Store) cascade(ctx context.Context, tx *sqlx.Tx, ev *records.Event, fn func(fs *files.Store, bucketID string) error) error {
	id, err := s.bucketID(ctx, tx, ev.Record.ID)
	if errors.Is(err, ErrNotFound) {
		return nil // a record without files
	}
	if err != nil {
		return err
	}
	if err := fn(s.files.WithTx(tx), id); err != nil {
		return fmt.Errorf("recordfiles: %s bucket of record %s: %w", ev.Op, ev.Record.ID, err)
	}
	return nil
}

// RecordID returns the id of the record that owns bucketID, or ErrNotFound.
func (s *Store) RecordID(ctx context.Context, bucketID string) (uuid.UUID, error) {
	var id string
	q := s.querier()
	err := q.GetContext(ctx, &id, q.Rebind("SELECT record_id FROM recordfiles_buckets WHERE bucket_id = ?"), bucketID)
	if sqldb.IsNoRows(err) {
		return uuid.Nil, ErrNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("recordfiles: find record: %w", err)
	}
	return uuid.Parse(id)
}

// AccessResource returns the record owning bucketID as an access.Resource,
// for fileshttp.WithAccessPolicy:
//
//	fileshttp.WithAccessPolicy(policy, func(r *http.Request, res fileshttp.Resource) (access.Resource, error) {
//		return rf.AccessResource(r, res.BucketID)
//	})
func (s *Store) AccessResource(r *http.Request, bucketID string) (access.Resource, error) {
	id, err := s.RecordID(r.Context(), bucketID)
	if err != nil {
		return access.Resource{}, err
	}
	rec, err := s.recs.Get(r.Context(), id)
	if err != nil {
		if errors.Is(err, records.ErrNotFound) {
			return access.Resource{}, ErrNotFound
		}
		return access.Resource{}, err
	}
	return records.AccessResource(rec), nil
}
