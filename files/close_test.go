package files_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
)

// TestClose: a store from Open closes its database, one from New leaves the
// host's open; both release their prepared statements, refuse the hot read
// path afterwards, and may be closed twice.
func TestClose(t *testing.T) {
	ctx := context.Background()
	locs, err := storage.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer locs.Close()

	opened, err := files.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "f.db"), locs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := opened.CreateBucket(ctx, files.BucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := opened.Put(ctx, b.ID, "k", strings.NewReader("x"), files.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := opened.Head(ctx, b.ID, "k", ""); err != nil { // prepares the hot statement
		t.Fatal(err)
	}
	for i := range 2 {
		if err := opened.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if err := opened.DB().PingContext(ctx); err == nil {
		t.Fatal("the database Open opened is still open after Close")
	}
	if _, err := opened.Head(ctx, b.ID, "k", ""); err == nil {
		t.Fatal("Head on a closed store succeeded")
	}

	db := sqldbtest.Fresh(t, sqldb.SQLite)
	made, err := files.New(ctx, db, locs)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = made.CreateBucket(ctx, files.BucketOptions{})
	if _, err := made.Put(ctx, b.ID, "k", strings.NewReader("x"), files.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := made.Head(ctx, b.ID, "k", ""); err != nil {
		t.Fatal(err)
	}
	if err := made.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("New's store closed the host's database: %v", err)
	}
	if _, err := made.Head(ctx, b.ID, "k", ""); !errors.Is(err, sql.ErrConnDone) {
		t.Fatalf("Head after Close: %v, want sql.ErrConnDone", err)
	}
}
