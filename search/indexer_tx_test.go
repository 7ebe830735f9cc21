package search_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/tasks"
)

// TestIndexerWithTx: an index operation written in the caller's transaction
// (Indexer.WithTx, or a records write in a WithTx view of an attached
// store) commits with it, and the consumer is woken once it commits: the
// tasks poll interval here is an hour, far beyond the test's deadline.
// A rolled-back transaction leaves no operation.
func TestIndexerWithTx(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.Fresh(t, d)
		log := slog.New(slog.DiscardHandler)

		store, err := records.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		// plain writes records without indexing hooks: only an explicit
		// Indexer.Enqueue indexes what it writes.
		plain, err := records.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := tasks.New(ctx, db, tasks.WithPollInterval(time.Hour), tasks.WithLogger(log))
		if err != nil {
			t.Fatal(err)
		}
		// One WithLogger for the engine and the indexer.
		eng, err := search.Open(ctx, "bleve://"+t.TempDir(), search.WithLogger(log))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		ix, err := eng.EnsureIndex(ctx, "records", recordsDef)
		if err != nil {
			t.Fatal(err)
		}
		idx := search.NewIndexer(eng, tc, search.WithBatch(100, 0), search.WithMaxAttempts(3), search.WithLogger(log))
		idx.Attach(store)
		if err := tc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = tc.Stop(ctx)
		})
		searchable := func(what string, r *records.Record) {
			t.Helper()
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := ix.WaitRevision(wctx, r.ID.String(), r.Revision); err != nil {
				t.Fatalf("%s: not searchable within 20 s (poll interval 1 h): %v", what, err)
			}
		}

		// The store's own transaction; once indexed the consumer is idle,
		// waiting for the next poll or a wake-up.
		first, err := store.Create(ctx, doc(1))
		if err != nil {
			t.Fatal(err)
		}
		searchable("record written in the store's transaction", first)

		// An attached store's WithTx view in the host's transaction.
		var second *records.Record
		err = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
			var err error
			second, err = store.WithTx(tx).Create(ctx, doc(2))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		searchable("record written in the host's transaction", second)

		// Indexer.WithTx: the host enqueues the operation itself.
		var third *records.Record
		err = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
			var err error
			if third, err = plain.WithTx(tx).Create(ctx, doc(3)); err != nil {
				return err
			}
			return idx.WithTx(tx).Enqueue(ctx, third.ID.String(), "", third.Revision)
		})
		if err != nil {
			t.Fatal(err)
		}
		searchable("Indexer.WithTx(tx).Enqueue", third)

		// Rolled back: neither the record nor its operation exists.
		before, err := tc.List(ctx, tasks.ListParams{Type: search.DefaultTaskType})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("changed my mind")
		err = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
			r, err := plain.WithTx(tx).Create(ctx, doc(4))
			if err != nil {
				return err
			}
			if err := idx.WithTx(tx).Enqueue(ctx, r.ID.String(), "", r.Revision); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the rollback's cause", err)
		}
		after, err := tc.List(ctx, tasks.ListParams{Type: search.DefaultTaskType})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("%d index operations after a rolled-back transaction, want %d", len(after), len(before))
		}
	})
}
