package pid_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records/pid"
)

// TestClose: a store from Open closes its database (it leaked before Close
// existed), one from New leaves the host's open; both may be closed twice.
func TestClose(t *testing.T) {
	ctx := context.Background()
	opened, err := pid.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
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

	db := sqldbtest.Fresh(t, sqldb.SQLite)
	made, err := pid.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := made.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("New's store closed the host's database: %v", err)
	}
}
