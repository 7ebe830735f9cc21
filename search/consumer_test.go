package search_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/opensearch"
	"github.com/repokit/repokit/search/opensearch/osfake"
	"github.com/repokit/repokit/tasks"
)

const helperEnv = "REPOKIT_SEARCH_HELPER"

// TestHelperProcess is the bulk consumer child of TestKillConsumer: it
// consumes index tasks until it is killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "consumer" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	db, err := sqldb.Open(ctx, os.Getenv("HELPER_DB"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := records.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tasks.New(ctx, db, fastTasks(tasks.WithLease(time.Second))...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.Open(ctx, os.Getenv("HELPER_ENGINE"))
	if err != nil {
		t.Fatal(err)
	}
	idx := search.NewIndexer(eng, tc, search.WithBatch(100, 20*time.Millisecond))
	idx.ReadFrom(store)
	if err := tc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Minute) // killed long before
}

func randPrefix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + "-"
}

// TestKillConsumer SIGKILLs a consumer process after the engine applied its
// bulk request and before the consumer acknowledged the tasks: after a
// restart the tasks are redelivered and the drift check reports zero.
func TestKillConsumer(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) { testKillConsumer(t, d) })
}

func testKillConsumer(t *testing.T, d sqldb.Dialect) {
	ctx := context.Background()
	dbURL := sqldbtest.FreshURL(t, d)
	db, err := sqldb.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := osfake.New()
	defer srv.Close()
	engineURL := strings.Replace(srv.URL(), "http://", "opensearch://", 1) + "?prefix=" + randPrefix()
	e := newEnv(t, db, engineURL)
	const n = 300
	for i := 0; i < n; i++ {
		if _, err := e.store.Create(ctx, doc(i)); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=consumer", "HELPER_DB="+dbURL, "HELPER_ENGINE="+engineURL)
	var killed atomic.Bool
	var applied atomic.Int64
	done := make(chan struct{})
	procs := make(chan *os.Process, 1)
	srv.SetAfterBulk(func(index string, items int) {
		if killed.CompareAndSwap(false, true) {
			applied.Store(int64(items))
			_ = (<-procs).Kill() // SIGKILL: the bulk is applied, the response not yet read
			close(done)
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	procs <- cmd.Process
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("consumer child never sent a bulk request")
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !ws.Signaled() {
		t.Fatalf("child not killed by a signal: %v", err)
	}
	// the engine holds documents whose tasks were never acknowledged
	if err := e.ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := e.ix.Query(ctx, &search.Spec{Query: search.MatchAll{}, TrackTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	completed, err := e.tc.List(ctx, tasks.ListParams{State: tasks.StateCompleted, Type: search.DefaultTaskType})
	if err != nil {
		t.Fatal(err)
	}
	if applied.Load() == 0 || res.Total != applied.Load() || len(completed) != 0 {
		t.Fatalf("at the kill: %d docs indexed from a bulk of %d, %d tasks acknowledged (want indexed but unacknowledged)", res.Total, applied.Load(), len(completed))
	}
	rep, err := e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != n-applied.Load() {
		t.Fatalf("drift before restart: %+v", rep)
	}
	// restart a consumer: the killed batch's leases expire and are redelivered
	e.start(t)
	waitIdle(t, e.tc)
	rep, err = e.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.Records != n || rep.Docs != n {
		t.Fatalf("drift after restart: %+v", rep)
	}
}

// TestConcurrentConsumers: 5 consumers (separate tasks clients and engine
// connections) consume while 4 writers make 10 changes per record to 2,000
// records (20,000 changes: creates, updates, delete+undelete pairs, final
// deletes); the final index equals the database. -short: 200 records.
func TestConcurrentConsumers(t *testing.T) {
	nrec, perRec := 2000, 10
	if testing.Short() {
		nrec = 200
	}
	ctx := context.Background()
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	srv := osfake.New()
	defer srv.Close()
	engineURL := strings.Replace(srv.URL(), "http://", "opensearch://", 1) + "?prefix=" + randPrefix()
	prod := newEnv(t, db, engineURL) // producer: hooks only, never started
	for c := 0; c < 5; c++ {
		// Nothing is killed here: a long lease keeps five clients
		// heartbeating through one SQLite writer on a loaded machine from
		// having their live runs rescued as crashes.
		tc, err := tasks.New(ctx, db, fastTasks(tasks.WithLease(30*time.Second))...)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := search.Open(ctx, engineURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		idx := search.NewIndexer(eng, tc, search.WithBatch(200, 10*time.Millisecond))
		idx.ReadFrom(prod.store)
		if err := tc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = tc.Stop(sctx)
		})
	}
	// create in bulk (CreateMany runs the hooks per record), then change
	// records from 4 writers
	docs := make([][]byte, nrec)
	for i := range docs {
		docs[i] = doc(i)
	}
	var recs []*records.Record
	for i := 0; i < nrec; i += 500 {
		j := min(i+500, nrec)
		rs, err := prod.store.CreateMany(ctx, toRaw(docs[i:j]))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rs...)
	}
	var wg sync.WaitGroup
	var changes atomic.Int64
	changes.Add(int64(nrec))
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), 7))
			for i := w; i < nrec; i += 4 {
				id := recs[i].ID
				rev := recs[i].Revision
				for k := 1; k < perRec; k++ {
					var r *records.Record
					var err error
					switch x := rng.IntN(10); {
					case x == 0 && k < perRec-1:
						r, err = prod.store.Delete(ctx, id)
						if err == nil {
							changes.Add(1)
							k++
							r, err = prod.store.Undelete(ctx, id)
						}
					default:
						r, err = prod.store.Update(ctx, id, doc(i*100+k), rev)
					}
					if err != nil {
						t.Error(err)
						return
					}
					rev = r.Revision
					changes.Add(1)
				}
				if rng.IntN(20) == 0 { // end some records deleted
					if _, err := prod.store.Delete(ctx, id); err != nil {
						t.Error(err)
						return
					}
					changes.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	waitIdle(t, prod.tc)
	rep, err := prod.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d changes to %d records, drift %+v", changes.Load(), nrec, rep)
	if changes.Load() < int64(nrec*perRec) {
		t.Fatalf("only %d changes made", changes.Load())
	}
	if !rep.Clean() || rep.Records != int64(nrec) {
		t.Fatalf("index differs from the database: %+v", rep)
	}
	dead, _ := prod.tc.List(ctx, tasks.ListParams{State: tasks.StateDead, Type: search.DefaultTaskType})
	if len(dead) != 0 {
		t.Fatalf("%d dead index tasks, first: %s", len(dead), dead[0].LastError)
	}
}

func toRaw(bs [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}
