package sqltx_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/sqltx"
)

// TestInTxRetriesDeadlock provokes a real deadlock on PostgreSQL and
// MySQL/MariaDB: two transactions each lock one row, then want the other's.
// The database aborts one (40P01, 1213); InTx must run its function again
// and both must commit, each row updated exactly twice.
func TestInTxRetriesDeadlock(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.Postgres, sqldb.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := sqldbtest.Fresh(t, d)
			for _, q := range []string{
				"CREATE TABLE sqltx_dl (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
				"INSERT INTO sqltx_dl (id, n) VALUES (1, 0), (2, 0)",
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var attempts atomic.Int32
			locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					first, second := 1+w, 2-w
					var mine atomic.Int32
					errs[w] = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
						attempts.Add(1)
						upd := tx.Rebind("UPDATE sqltx_dl SET n = n + 1 WHERE id = ?")
						if _, err := tx.ExecContext(ctx, upd, first); err != nil {
							return err
						}
						if mine.Add(1) == 1 {
							// First attempt: hold our row until the other
							// transaction holds its own, so the next
							// statement closes the cycle.
							close(locked[w])
							select {
							case <-locked[1-w]:
							case <-time.After(30 * time.Second):
							}
						}
						_, err := tx.ExecContext(ctx, upd, second)
						return err
					})
				}()
			}
			wg.Wait()
			for w, err := range errs {
				if err != nil {
					t.Fatalf("transaction %d: %v (a deadlock must be retried)", w, err)
				}
			}
			if n := attempts.Load(); n < 3 {
				t.Fatalf("%d attempts, want at least 3: no transaction was retried, so no deadlock was provoked", n)
			}
			var ns []int
			if err := db.SelectContext(ctx, &ns, "SELECT n FROM sqltx_dl ORDER BY id"); err != nil {
				t.Fatal(err)
			}
			if len(ns) != 2 || ns[0] != 2 || ns[1] != 2 {
				t.Fatalf("rows = %v, want [2 2] (each committed transaction adds 1 to both, a retried one only once)", ns)
			}
		})
	}
}

// TestInTxRetriesBusy provokes SQLITE_BUSY: another connection holds the
// write lock longer than the busy timeout, so the function's write fails
// with a busy error; InTx must run it again until the lock is released.
func TestInTxRetriesBusy(t *testing.T) {
	ctx := context.Background()
	url := sqldbtest.FreshURL(t, sqldb.SQLite)
	holder, err := sqldb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	// Deferred transactions and a short busy timeout: the write inside the
	// function, not BEGIN, meets the lock, so attempts are countable.
	db, err := sqldb.Open(ctx, url+"?_txlock=deferred&_busy_timeout=200")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := holder.ExecContext(ctx, "CREATE TABLE sqltx_busy (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	htx, err := holder.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer htx.Rollback()
	if _, err := htx.ExecContext(ctx, "INSERT INTO sqltx_busy (n) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// Without InTx the same write fails, and the error is one InTx retries.
	if _, err := db.ExecContext(ctx, "INSERT INTO sqltx_busy (n) VALUES (2)"); err == nil || !sqltx.IsRetryable(err) {
		t.Fatalf("plain write while locked: %v, want a retryable busy error", err)
	}

	var attempts atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
			attempts.Add(1)
			_, err := tx.ExecContext(ctx, "INSERT INTO sqltx_busy (n) VALUES (3)")
			return err
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for attempts.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("InTx did not retry within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := htx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("InTx: %v (a busy database must be retried)", err)
	}
	var ns []int
	if err := db.SelectContext(ctx, &ns, "SELECT n FROM sqltx_busy ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0] != 1 || ns[1] != 3 {
		t.Fatalf("rows = %v, want [1 3]", ns)
	}
}

// TestIsRetryable: the errors of every driver a host may open its database
// with, wrapped as packages wrap them.
func TestIsRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pq.Error{Code: "40001"}, true},
		{&pq.Error{Code: "40P01"}, true},
		{&pgconn.PgError{Code: "40P01"}, true}, // pgx's database/sql driver
		{&pgconn.PgError{Code: "40001"}, true},
		{&mysql.MySQLError{Number: 1213}, true},
		{&mysql.MySQLError{Number: 1205}, true},
		{sqlite3.Error{Code: sqlite3.ErrBusy}, true},
		{&pq.Error{Code: "23505"}, false},
		{&pgconn.PgError{Code: "23505"}, false},
		{&mysql.MySQLError{Number: 1062}, false},
		{sqlite3.Error{Code: sqlite3.ErrConstraint}, false},
		{errors.New("boom"), false},
	} {
		if got := sqltx.IsRetryable(fmt.Errorf("records: update: %w", c.err)); got != c.want {
			t.Errorf("IsRetryable(%#v) = %v, want %v", c.err, got, c.want)
		}
	}
}
