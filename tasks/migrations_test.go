package tasks_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
)

func TestWithoutMigrations(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	tables := func() int {
		var n int
		if err := db.Get(&n, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'tasks_%'"); err != nil {
			t.Fatal(err)
		}
		return n
	}
	c, err := tasks.New(ctx, db, tasks.WithoutMigrations())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := tables(); n != 0 {
		t.Fatalf("WithoutMigrations created %d tasks_ tables", n)
	}
	if m, err := fs.Glob(tasks.Migrations(), "sqlite/*.sql"); err != nil || len(m) == 0 {
		t.Fatalf("Migrations() has no sqlite migrations: %v %v", m, err)
	}
	c, err = tasks.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if tables() == 0 {
		t.Fatal("New did not migrate")
	}
}
