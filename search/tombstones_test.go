package search_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/tasks"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Within(t, 90*time.Second, what, cond)
}

func tombstones(t *testing.T, e *env) (tombs, docs uint64) {
	t.Helper()
	tombs, docs, err := e.eng.Driver().(*blevesearch.Driver).Tombstones(e.ix.Alias())
	if err != nil {
		t.Fatal(err)
	}
	return tombs, docs
}

func indexed(t *testing.T, e *env, id string) bool {
	t.Helper()
	res, err := e.ix.Query(context.Background(), &search.Spec{Query: search.Term{Field: "id", Value: id}, Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Hits) == 1
}

// TestTombstonePurgeWaitsForOlderTasks: a tombstone is kept while an index
// task created before the delete is unfinished (its write could still
// arrive, and is refused), and purged once that task is finished.
func TestTombstonePurgeWaitsForOlderTasks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqldbtest.Fresh(t, sqldb.SQLite), "bleve://"+t.TempDir(), search.WithTombstonePurge(20*time.Millisecond, 0))
	r, err := e.store.Create(ctx, doc(1))
	if err != nil {
		t.Fatal(err)
	}
	e.start(t)
	waitFor(t, "record indexed", func() bool { return indexed(t, e, r.ID.String()) })
	// an index task of the live record, delivered late (scheduled in an hour)
	late, err := e.tc.Enqueue(ctx, search.DefaultTaskType, search.IndexTask{ID: r.ID.String(), Op: search.OpIndex, Revision: r.Revision, Index: "records"}, tasks.Delay(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delete indexed", func() bool { return !indexed(t, e, r.ID.String()) })
	if tombs, _ := tombstones(t, e); tombs != 1 {
		t.Fatalf("%d tombstones after the delete (want 1)", tombs)
	}
	if n, left, err := e.idx.PurgeTombstones(ctx, "records"); err != nil || n != 0 || left != 1 {
		t.Fatalf("purge with an older task unfinished: %d purged, %d left, %v (want 0, 1)", n, left, err)
	}
	// the write that task could make (the record as it was) is refused
	rs, err := e.ix.Bulk(ctx, []search.Op{{Kind: search.OpIndex, ID: r.ID.String(), Revision: r.Revision, Source: []byte(`{"title": "stale"}`)}})
	if err != nil || rs[0].Status != search.Stale {
		t.Fatalf("late stale write: %+v, %v (want stale)", rs, err)
	}
	if indexed(t, e, r.ID.String()) {
		t.Fatal("the deleted record came back")
	}
	// the automatic purge keeps it too, while the task is unfinished
	time.Sleep(100 * time.Millisecond) // let the armed timer (20ms) fire at least once: nothing to assert but that it kept the tombstone
	if tombs, _ := tombstones(t, e); tombs != 1 {
		t.Fatalf("%d tombstones while an older task is unfinished (want 1)", tombs)
	}
	// once that task is finished, the tombstone goes (by the timer, armed
	// again while tombstones are left)
	if err := e.tc.Cancel(ctx, late); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "tombstone purged", func() bool { tombs, docs := tombstones(t, e); return tombs == 0 && docs == 0 })
}

// TestTombstonePurgeAfterDrain: an index that sees many deletes does not
// keep their tombstones once the queue has drained.
func TestTombstonePurgeAfterDrain(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		e := newEnv(t, sqldbtest.Fresh(t, d), "bleve://"+t.TempDir(), search.WithTombstonePurge(30*time.Millisecond, 0))
		var recs []*records.Record
		for i := 0; i < 60; i++ {
			r, err := e.store.Create(ctx, doc(i))
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		e.start(t)
		waitIdle(t, e.tc)
		for _, r := range recs[:40] {
			if _, err := e.store.Delete(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		waitIdle(t, e.tc)
		waitFor(t, "tombstones purged", func() bool { tombs, docs := tombstones(t, e); return tombs == 0 && docs == 20 })
		res, err := e.ix.Query(ctx, &search.Spec{Query: search.Bool{MustNot: []search.Query{search.Term{Field: "kind", Value: "k0"}}}, Size: 100, TrackTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for i := 40; i < 60; i++ {
			if i%3 != 0 {
				want++
			}
		}
		if int(res.Total) != want {
			t.Fatalf("not-k0 after purge: %d (want %d)", res.Total, want)
		}
		rep, err := e.idx.CheckDrift(ctx, search.DriftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Missing+rep.Stale+rep.Orphaned != 0 {
			t.Fatalf("drift after purge: %+v", rep)
		}
	})
}

// TestTombstonePurgeHeldByReindex: while a reindex copies documents, the
// purge cutoff stays before its start.
func TestTombstonePurgeHeldByReindex(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqldbtest.Fresh(t, sqldb.SQLite), "bleve://"+t.TempDir(), search.WithTombstonePurge(time.Hour, 0))
	for i := 0; i < 30; i++ {
		if _, err := e.store.Create(ctx, doc(i)); err != nil {
			t.Fatal(err)
		}
	}
	e.start(t)
	waitIdle(t, e.tc)
	var first time.Time // the reindex started before its first progress
	calls := 0
	err := e.ix.Reindex(ctx, recordsDef, search.ReindexBatch(10), search.OnProgress(func(search.Progress) {
		if calls++; calls == 1 {
			first = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
		cut, err := e.idx.PurgeCutoff(ctx)
		if err != nil {
			t.Error(err)
		}
		if !cut.Before(first) {
			t.Errorf("purge cutoff %s during a reindex that reported progress at %s", cut, first)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("no progress reported")
	}
	if cut, err := e.idx.PurgeCutoff(ctx); err != nil || !cut.After(first) {
		t.Fatalf("cutoff after the reindex: %s, %v (want after %s)", cut, err, first)
	}
}
