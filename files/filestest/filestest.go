// Package filestest builds files.Stores for tests: a fresh database of a
// given dialect (see sqldbtest) and storage locations in temporary
// directories ("local", the default, and "archive", both file://) plus an
// in-memory one ("mem").
package filestest

import (
	"context"
	"log/slog"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"testing"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
)

// SigningKey is the secret the test locations sign URLs with.
var SigningKey = []byte("filestest-signing-key-0123456789")

// Env is a test store with its locations.
type Env struct {
	Store *files.Store
	Locs  *storage.Locations
	// Dirs maps the file:// location names to their directories.
	Dirs map[string]string
}

// Options tune New.
type Options struct {
	// SignedURLBase is passed to storage.WithSignedURLBase (default "/_storage").
	SignedURLBase string
	// Store options (WithMinPartSize(1) is always added first).
	StoreOptions []files.Option
	// DefaultLocation overrides the default location ("local").
	DefaultLocation string
}

// New returns a store on a fresh database of dialect "sqlite" (or ""),
// "postgres" or "mysql" (on the server named by REPOKIT_TEST_POSTGRES_URL or
// REPOKIT_TEST_MYSQL_URL; the test is skipped if it is unset).
func New(t testing.TB, dialect string, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	d := sqldb.Dialect(dialect)
	if d == "" {
		d = sqldb.SQLite
	}
	db := sqldbtest.Fresh(t, d)
	dirs := map[string]string{"local": filepath.Join(t.TempDir(), "local"), "archive": filepath.Join(t.TempDir(), "archive")}
	urls := map[string]string{"mem": "mem://"}
	for n, dir := range dirs {
		urls[n] = (&url.URL{Scheme: "file", Path: dir, RawQuery: "create_dir=1"}).String()
	}
	def := o.DefaultLocation
	if def == "" {
		def = "local"
	}
	base := o.SignedURLBase
	if base == "" {
		base = "/_storage"
	}
	sopts := []storage.Option{storage.WithName(def), storage.WithSigningKey(SigningKey), storage.WithSignedURLBase(base)}
	for _, n := range slices.Sorted(maps.Keys(urls)) {
		if n != def {
			sopts = append(sopts, storage.WithLocation(n, urls[n]))
		}
	}
	locs, err := storage.Open(ctx, urls[def], sopts...)
	if err != nil {
		t.Fatalf("open locations: %v", err)
	}
	t.Cleanup(func() { locs.Close() })
	opts := append([]files.Option{files.WithMinPartSize(1), files.WithLogger(slog.New(slog.DiscardHandler))}, o.StoreOptions...)
	s, err := files.New(ctx, db, locs, opts...)
	if err != nil {
		t.Fatalf("files.New: %v", err)
	}
	return &Env{Store: s, Locs: locs, Dirs: dirs}
}

// Keys lists every stored key of a location (test helper).
func (e *Env) Keys(t testing.TB, location string) []string {
	t.Helper()
	l, err := e.Locs.Get(location)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for info, err := range l.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}
