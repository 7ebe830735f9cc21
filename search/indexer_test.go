package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/tasks"
)

var recordsDef = search.Definition{Mappings: json.RawMessage(`{"properties": {
  "id": {"type": "keyword"}, "revision": {"type": "long"}, "created": {"type": "date"}, "updated": {"type": "date"},
  "title": {"type": "text"}, "year": {"type": "long"}, "kind": {"type": "keyword"}}}`)}

type env struct {
	db    *sqlx.DB
	store *records.Store
	tc    *tasks.Client
	eng   *search.Engine
	ix    *search.Index
	idx   *search.Indexer
}

func fastTasks(extra ...tasks.Option) []tasks.Option {
	return append([]tasks.Option{
		tasks.WithLease(2 * time.Second),
		tasks.WithPollInterval(20 * time.Millisecond),
		tasks.WithRetryPolicy(tasks.RetryPolicyFunc(func(int, error) time.Duration { return 30 * time.Millisecond })),
	}, extra...)
}

// newEnv wires a records store, a tasks client and an indexer over engine
// URL engineURL on db (the index is created when missing).
func newEnv(t *testing.T, db *sqlx.DB, engineURL string, iopts ...search.IndexerOption) *env {
	t.Helper()
	ctx := context.Background()
	store, err := records.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tasks.New(ctx, db, fastTasks()...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.Open(ctx, engineURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	ix, err := eng.EnsureIndex(ctx, "records", recordsDef)
	if err != nil {
		t.Fatal(err)
	}
	idx := search.NewIndexer(eng, tc, append([]search.IndexerOption{search.WithBatch(100, 20*time.Millisecond), search.WithMaxAttempts(3)}, iopts...)...)
	idx.Attach(store)
	return &env{db: db, store: store, tc: tc, eng: eng, ix: ix, idx: idx}
}

func (e *env) start(t *testing.T) {
	t.Helper()
	if err := e.tc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.tc.Stop(ctx)
	})
}

// waitIdle waits until no task is pending (available, scheduled, running or
// retryable). The counts come from one statement (Queues): listing state by
// state could miss a task moving from retryable to running between two
// queries and call a queue idle while its last attempt runs.
func waitIdle(t *testing.T, tc *tasks.Client) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(90 * time.Second)
	for {
		qs, err := tc.Queues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var busy int64
		for _, q := range qs {
			for st, n := range q.Counts {
				if !st.Final() {
					busy += n
				}
			}
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("index tasks still pending after 90s")
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func doc(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"title": "record number %d", "year": %d, "kind": "k%d"}`, i, 2000+i%20, i%3))
}

// TestIndexerOutbox: record operations reach the index through the outbox,
// a rolled-back transaction enqueues nothing, one bad document dies with its
// reason without failing its batch, and the index ends equal to the database.
func TestIndexerOutbox(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) { testIndexerOutbox(t, d) })
}

func testIndexerOutbox(t *testing.T, d sqldb.Dialect) {
	ctx := context.Background()
	e := newEnv(t, sqldbtest.Fresh(t, d), "bleve://"+t.TempDir())
	var recs []*records.Record
	for i := 0; i < 40; i++ {
		r, err := e.store.Create(ctx, doc(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	for i := 0; i < 10; i++ {
		r, err := e.store.Update(ctx, recs[i].ID, doc(100+i), recs[i].Revision)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = r
	}
	for i := 10; i < 15; i++ {
		if _, err := e.store.Delete(ctx, recs[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.store.Undelete(ctx, recs[10].ID); err != nil {
		t.Fatal(err)
	}
	for i := 15; i < 17; i++ {
		if err := e.store.Purge(ctx, recs[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	// rolled back: neither the record nor its index operation exist
	tx, err := e.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	ghost, err := e.store.WithTx(tx).Create(ctx, doc(999))
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// a record the engine rejects (year is not a number)
	bad, err := e.store.Create(ctx, json.RawMessage(`{"title": "bad", "year": "not a number"}`))
	if err != nil {
		t.Fatal(err)
	}
	e.start(t)
	waitIdle(t, e.tc)

	dead, err := e.tc.List(ctx, tasks.ListParams{State: tasks.StateDead, Type: search.DefaultTaskType})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || !strings.Contains(string(dead[0].Args), bad.ID.String()) || !strings.Contains(dead[0].LastError, "mapper_parsing_exception") || dead[0].Attempt != 3 {
		t.Fatalf("dead tasks: want the bad record's after 3 attempts with the reason, got %d: %+v", len(dead), dead)
	}
	rep, err := e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != 1 || rep.MissingIDs[0] != bad.ID.String() || rep.Stale != 0 || rep.Orphaned != 0 {
		t.Fatalf("drift: %+v (want only the bad record missing)", rep)
	}
	if err := e.ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		res, err := e.ix.Query(ctx, &search.Spec{Query: search.Term{Field: "id", Value: r.ID.String()}, Size: 2})
		if err != nil {
			t.Fatal(err)
		}
		wantLive := i < 10 || i == 10 || i >= 17
		if !wantLive {
			if len(res.Hits) != 0 {
				t.Errorf("record %d (deleted/purged) still indexed", i)
			}
			continue
		}
		cur, _ := e.store.Get(ctx, r.ID)
		if len(res.Hits) != 1 || res.Hits[0].Revision != cur.Revision {
			t.Errorf("record %d: hits %+v, want revision %d", i, res.Hits, cur.Revision)
			continue
		}
		var got map[string]any
		_ = json.Unmarshal(res.Hits[0].Source, &got)
		if got["id"] != r.ID.String() || got["revision"] != float64(cur.Revision) || got["created"] == nil || got["updated"] == nil {
			t.Errorf("record %d: dumped document lacks id/revision/created/updated: %s", i, res.Hits[0].Source)
		}
	}
	res, err := e.ix.Query(ctx, &search.Spec{Query: search.Term{Field: "id", Value: ghost.ID.String()}, Size: 1})
	if err != nil || len(res.Hits) != 0 {
		t.Fatalf("rolled-back record indexed: %v %v", res, err)
	}
}

// TestDriftRepair: missing, stale and orphaned documents are reported and
// repaired through the queue.
func TestDriftRepair(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) { testDriftRepair(t, d) })
}

func testDriftRepair(t *testing.T, d sqldb.Dialect) {
	ctx := context.Background()
	db := sqldbtest.Fresh(t, d)
	e := newEnv(t, db, "bleve://"+t.TempDir())
	var recs []*records.Record
	for i := 0; i < 30; i++ {
		r, err := e.store.Create(ctx, doc(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := e.idx.RebuildAll(ctx, 7, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil || !rep.Clean() || rep.Records != 30 || rep.Docs != 30 {
		t.Fatalf("after RebuildAll: %+v %v", rep, err)
	}
	// corrupt: a missing doc, a stale doc (record changed with no hook), an orphan
	if _, err := e.ix.Delete(ctx, recs[3].ID.String(), recs[3].Revision); err != nil {
		t.Fatal(err)
	}
	plain, err := records.New(ctx, db) // no indexer attached
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Update(ctx, recs[5].ID, doc(500), recs[5].Revision); err != nil {
		t.Fatal(err)
	}
	orphan := uuid.NewString()
	if _, err := e.ix.Put(ctx, search.Document{ID: orphan, Revision: 4, Source: []byte(`{"title":"orphan"}`)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.idx.CheckDrift(ctx, search.DriftOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != 1 || rep.Stale != 1 || rep.Orphaned != 1 || rep.Enqueued != 3 ||
		rep.MissingIDs[0] != recs[3].ID.String() || rep.StaleIDs[0] != recs[5].ID.String() || rep.OrphanedIDs[0] != orphan {
		t.Fatalf("drift report: %+v", rep)
	}
	e.start(t)
	waitIdle(t, e.tc)
	rep, err = e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil || !rep.Clean() {
		t.Fatalf("after repair: %+v %v", rep, err)
	}
}

// TestRouterDrift: a router spreads records over two indices; a record whose
// route changes moves; the drift check covers both indices and repairs a
// misrouted copy and a custom dumper's output is what gets indexed.
func TestRouterDrift(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	eng, err := search.Open(ctx, "bleve://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.CreateIndex(ctx, "archive", recordsDef); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	router := func(r *records.Record) (string, error) {
		var d struct {
			Year int `json:"year"`
		}
		if err := json.Unmarshal(r.JSON, &d); err != nil {
			return "", err
		}
		if d.Year < 2010 {
			return "archive", nil
		}
		return "records", nil
	}
	dumper := func(ctx context.Context, r *records.Record) (json.RawMessage, error) {
		b, err := search.DefaultDumper(ctx, r)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(strings.Replace(string(b), `"title":"`, `"title":"dumped `, 1)), nil
	}
	e := newEnv(t, db, "bleve://"+dir, search.WithRouter(router), search.WithDumper(dumper))
	archive, err := e.eng.OpenIndex(ctx, "archive")
	if err != nil {
		t.Fatal(err)
	}
	var recs []*records.Record
	for i := 0; i < 20; i++ { // years 2000..2019
		r, err := e.store.Create(ctx, doc(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	// record 3 (2003) moves to the live index
	moved, err := e.store.Update(ctx, recs[3].ID, json.RawMessage(`{"title": "moved", "year": 2015}`), recs[3].Revision)
	if err != nil {
		t.Fatal(err)
	}
	e.start(t)
	waitIdle(t, e.tc)
	both := search.DriftOptions{Indices: []string{"records", "archive"}}
	rep, err := e.idx.CheckDrift(ctx, both)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.Records != 20 || rep.Docs != 20 {
		t.Fatalf("drift over both indices: %+v", rep)
	}
	count := func(x *search.Index, q search.Query) int64 {
		if err := x.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := x.Query(ctx, &search.Spec{Query: q, TrackTotal: true, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	if n := count(archive, search.MatchAll{}); n != 9 {
		t.Fatalf("archive holds %d records, want 9 (2000-2009 minus the moved one)", n)
	}
	if n := count(e.ix, search.Term{Field: "id", Value: moved.ID.String()}); n != 1 {
		t.Fatal("moved record not in the live index")
	}
	if n := count(e.ix, search.Match{Field: "title", Text: "dumped"}); n != 11 {
		t.Fatalf("custom dumper output indexed for %d of 11 live-index records", n)
	}
	// a stray copy in the wrong index is an orphan, repaired by deletion
	if _, err := archive.Put(ctx, search.Document{ID: recs[15].ID.String(), Revision: recs[15].Revision, Source: []byte(`{"title":"stray"}`)}); err != nil {
		t.Fatal(err)
	}
	both.Repair = true
	rep, err = e.idx.CheckDrift(ctx, both)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Orphaned != 1 || rep.OrphanedIDs[0] != recs[15].ID.String() || rep.Missing+rep.Stale != 0 {
		t.Fatalf("stray copy: %+v", rep)
	}
	waitIdle(t, e.tc)
	both.Repair = false
	if rep, err = e.idx.CheckDrift(ctx, both); err != nil || !rep.Clean() {
		t.Fatalf("after repair: %+v %v", rep, err)
	}
}
