package search_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/tasks"
)

// noForce hides the driver's ForceDriver, as OpenSearch has none, so that
// repair must rebuild the index.
type noForce struct{ search.Driver }

// TestDriftAhead: the index holds revisions ahead of the database (the
// database was restored from a backup): a live document ahead, a tombstone
// ahead of a live record, and a live document ahead of a deleted record.
// Repair converges, by forced writes where the driver can, by rebuilding the
// index where it cannot.
func TestDriftAhead(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		for _, force := range []bool{true, false} {
			name := "force"
			if !force {
				name = "rebuild"
			}
			t.Run(name, func(t *testing.T) { testDriftAhead(t, d, force) })
		}
	})
}

func testDriftAhead(t *testing.T, d sqldb.Dialect, force bool) {
	ctx := context.Background()
	db := sqldbtest.Fresh(t, d)
	var e *env
	if force {
		e = newEnv(t, db, "bleve://"+t.TempDir())
	} else {
		store, err := records.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := tasks.New(ctx, db, fastTasks()...)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := search.Open(ctx, "bleve://"+t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		eng, err := search.New(ctx, noForce{raw.Driver()})
		if err != nil {
			t.Fatal(err)
		}
		ix, err := eng.EnsureIndex(ctx, "records", recordsDef)
		if err != nil {
			t.Fatal(err)
		}
		idx := search.NewIndexer(eng, tc, search.WithBatch(100, 20*time.Millisecond), search.WithMaxAttempts(3))
		idx.Attach(store)
		e = &env{db: db, store: store, tc: tc, eng: eng, ix: ix, idx: idx}
	}
	var recs []*records.Record
	for i := 0; i < 12; i++ {
		r, err := e.store.Create(ctx, doc(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	gone, err := e.store.Delete(ctx, recs[9].ID, records.IfRevision(recs[9].Revision))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.idx.RebuildAll(ctx, 5, nil); err != nil {
		t.Fatal(err)
	}
	// the index moves ahead of the database
	if _, err := e.ix.Put(ctx, search.Document{ID: recs[2].ID.String(), Revision: recs[2].Revision + 5, Source: []byte(`{"title": "from the future"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ix.Delete(ctx, recs[4].ID.String(), recs[4].Revision+5); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ix.Put(ctx, search.Document{ID: recs[9].ID.String(), Revision: gone.Revision + 5, Source: []byte(`{"title": "undeleted in the future"}`)}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stale != 2 || rep.Missing != 1 || rep.Ahead != 2 {
		t.Fatalf("drift before repair: %+v", rep)
	}
	if force {
		// a full rebuild converges too where writes can be forced
		if err := e.idx.RebuildAll(ctx, 5, nil); err != nil {
			t.Fatal(err)
		}
		if rep, err := e.idx.CheckDrift(ctx, search.DriftOptions{}); err != nil || !rep.Clean() {
			t.Fatalf("after RebuildAll: %+v %v", rep, err)
		}
		// ahead again, for the repair below
		if _, err := e.ix.Put(ctx, search.Document{ID: recs[2].ID.String(), Revision: recs[2].Revision + 5, Source: []byte(`{"title": "from the future"}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ix.Delete(ctx, recs[4].ID.String(), recs[4].Revision+5); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ix.Put(ctx, search.Document{ID: recs[9].ID.String(), Revision: gone.Revision + 5, Source: []byte(`{"title": "undeleted in the future"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = e.idx.CheckDrift(ctx, search.DriftOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if force && (rep.Enqueued != 3 || len(rep.Rebuilt) != 0) || !force && len(rep.Rebuilt) != 1 {
		t.Fatalf("repair report: %+v", rep)
	}
	e.start(t)
	waitIdle(t, e.tc)
	rep, err = e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil || !rep.Clean() || rep.Docs != 11 {
		t.Fatalf("after repair: %+v %v", rep, err)
	}
	res, err := e.ix.Query(ctx, &search.Spec{Query: search.Match{Field: "title", Text: "future"}, Size: 10})
	if err != nil || res.Total != 0 {
		t.Fatalf("documents from the future still searchable: %v %v", res, err)
	}
	// later updates index normally (the higher revisions are gone)
	r2, err := e.store.Update(ctx, recs[2].ID, doc(200), recs[2].Revision)
	if err != nil {
		t.Fatal(err)
	}
	_ = r2
	waitIdle(t, e.tc)
	rep, err = e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil || !rep.Clean() {
		t.Fatalf("after an update: %+v %v", rep, err)
	}
}
