package sqltx_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/sqltx"
)

func TestAfterCommit(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.Fresh(t, d)
		if _, err := db.ExecContext(ctx, "CREATE TABLE sqltx_t (n INTEGER)"); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM sqltx_t"); err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("runs after commit, sees committed rows", func(t *testing.T) {
			var seen = -1
			err := sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO sqltx_t (n) VALUES (1)"); err != nil {
					return err
				}
				return sqltx.AfterCommit(tx, func(ctx context.Context) { seen = count() })
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen != 1 {
				t.Fatalf("hook saw %d rows, want 1 (it must run after the commit)", seen)
			}
		})

		t.Run("dropped on rollback", func(t *testing.T) {
			ran := false
			boom := errors.New("boom")
			err := sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
				if err := sqltx.AfterCommit(tx, func(context.Context) { ran = true }); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want boom", err)
			}
			if ran {
				t.Fatal("hook ran although the transaction rolled back")
			}
		})

		t.Run("dropped on retry", func(t *testing.T) {
			var attempts, runs atomic.Int32
			err := sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
				n := attempts.Add(1)
				if err := sqltx.AfterCommit(tx, func(context.Context) { runs.Add(1) }); err != nil {
					return err
				}
				if n == 1 {
					return sqlite3.Error{Code: sqlite3.ErrBusy} // retryable
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if attempts.Load() != 2 || runs.Load() != 1 {
				t.Fatalf("attempts=%d runs=%d, want 2 attempts and 1 run", attempts.Load(), runs.Load())
			}
		})

		t.Run("manual Begin/Commit/Rollback", func(t *testing.T) {
			var runs int
			tx, err := sqltx.Begin(ctx, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !sqltx.Managed(tx) {
				t.Fatal("Begin's transaction is not managed")
			}
			if err := sqltx.AfterCommit(tx, func(context.Context) { runs++ }); err != nil {
				t.Fatal(err)
			}
			if err := sqltx.Rollback(tx); err != nil {
				t.Fatal(err)
			}
			if sqltx.Managed(tx) {
				t.Fatal("a rolled-back transaction is still managed")
			}
			tx, err = sqltx.Begin(ctx, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := sqltx.AfterCommit(tx, func(context.Context) { runs += 10 }); err != nil {
				t.Fatal(err)
			}
			if err := sqltx.Commit(tx); err != nil {
				t.Fatal(err)
			}
			if runs != 10 {
				t.Fatalf("runs = %d, want 10 (only the committed transaction's hook)", runs)
			}
		})

		t.Run("unmanaged transaction refused", func(t *testing.T) {
			tx, err := db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := sqltx.AfterCommit(tx, func(context.Context) {}); !errors.Is(err, sqltx.ErrUnmanagedTx) {
				t.Fatalf("err = %v, want ErrUnmanagedTx", err)
			}
		})
	})
}

// TestRecordsHook shows the seam every package shares: a records After hook
// registers a side effect that runs after commit whether the store opened
// its own transaction or ran in the host's.
func TestRecordsHook(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	recs, err := records.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var purged []string
	recs.On(records.After, records.OpUpdate, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		id := ev.Record.ID.String()
		return sqltx.AfterCommit(tx, func(context.Context) { purged = append(purged, id) })
	})
	rec, err := recs.Create(ctx, json.RawMessage(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	// Store's own transaction.
	if rec, err = recs.Update(ctx, rec.ID, json.RawMessage(`{"a":2}`), rec.Revision); err != nil {
		t.Fatal(err)
	}
	if len(purged) != 1 {
		t.Fatalf("purged %v after the store's own transaction, want one", purged)
	}
	// Host's transaction that rolls back: nothing.
	_ = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
		if _, err := recs.WithTx(tx).Update(ctx, rec.ID, json.RawMessage(`{"a":3}`), rec.Revision); err != nil {
			t.Fatal(err)
		}
		return errors.New("changed my mind")
	})
	if len(purged) != 1 {
		t.Fatalf("purged %v after a rollback, want still one", purged)
	}
	// Host's transaction that commits.
	err = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
		_, err := recs.WithTx(tx).Update(ctx, rec.ID, json.RawMessage(`{"a":4}`), rec.Revision)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(purged) != 2 {
		t.Fatalf("purged %v after the host's commit, want two", purged)
	}
	// A transaction begun behind sqltx's back: the hook refuses loudly and
	// the write rolls back rather than silently never purging.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := recs.WithTx(tx).Update(ctx, rec.ID, json.RawMessage(`{"a":5}`), rec.Revision+1); !errors.Is(err, sqltx.ErrUnmanagedTx) {
		t.Fatalf("update in an unmanaged tx: err = %v, want ErrUnmanagedTx", err)
	}
}
