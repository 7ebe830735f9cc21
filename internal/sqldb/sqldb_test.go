package sqldb_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

func TestSplitStatements(t *testing.T) {
	got := sqldb.SplitStatements("-- c\nCREATE TABLE a (x INT);\n\nINSERT INTO a VALUES (';');\n-- trailing;\n")
	if len(got) != 2 || got[0] != "-- c\nCREATE TABLE a (x INT)" || got[1] != "INSERT INTO a VALUES (';')" {
		t.Fatalf("got %q", got)
	}
}

func TestDSN(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:///tmp/x.db":  "sqlite3",
		"postgres://u@h/db":   "postgres",
		"mysql://root@h/test": "mysql",
	} {
		d, _, err := sqldb.DSN(in)
		if err != nil || d != want {
			t.Errorf("DSN(%q) = %q, %v; want %q", in, d, err, want)
		}
	}
	if _, _, err := sqldb.DSN("oracle://x"); err == nil {
		t.Error("oracle:// accepted")
	}
	_, dsn, _ := sqldb.DSN("mysql://root:pw@127.0.0.1/test?charset=utf8mb4")
	if want := "root:pw@tcp(127.0.0.1:3306)/test?"; len(dsn) < len(want) || dsn[:len(want)] != want {
		t.Errorf("mysql dsn %q", dsn)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	fsys := os.DirFS("testdata/migrations")
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		url := sqldbtest.FreshURL(t, d)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := sqldb.Open(ctx, url)
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				errs <- sqldb.Migrate(ctx, db, "sqldbtest", fsys)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		db, err := sqldb.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.Get(&n, "SELECT COUNT(*) FROM "+sqldb.MigrationsTable+" WHERE component = 'sqldbtest'"); err != nil || n != 2 {
			t.Fatalf("migrations recorded = %d, %v; want 2", n, err)
		}
		var v string
		if err := db.Get(&v, "SELECT v FROM t_one WHERE id = 1 AND w IS NULL"); err != nil || v != "a;b" {
			t.Fatalf("row = %q, %v", v, err)
		}
		// Running again is a no-op.
		if err := sqldb.Migrate(ctx, db, "sqldbtest", fsys); err != nil {
			t.Fatal(err)
		}
		// InTx commits, rolls back and sees unique violations.
		boom := errors.New("boom")
		err = sqldb.InTx(ctx, db, nil, func(tx *sqlx.Tx) error {
			if _, err := tx.Exec("INSERT INTO t_one (id, v) VALUES (2, 'x')"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v", err)
		}
		if err := db.Get(&n, "SELECT COUNT(*) FROM t_one"); err != nil || n != 1 {
			t.Fatalf("rollback left %d rows, %v", n, err)
		}
		err = sqldb.InTx(ctx, db, nil, func(tx *sqlx.Tx) error {
			_, err := tx.Exec("INSERT INTO t_one (id, v) VALUES (1, 'dup')")
			return err
		})
		if !sqldb.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert error = %v; want unique violation", err)
		}
	})
}
