package search_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/tasks"
)

// stallingDriver applies the first bulk request, reports it in a marker
// file and then stalls, so that the parent can SIGKILL the process between
// the engine's confirmation and the tasks' acknowledgement.
type stallingDriver struct {
	search.Driver
	marker string
}

func (s *stallingDriver) Bulk(ctx context.Context, index string, ops []search.Op, refresh bool) ([]search.OpResult, error) {
	res, err := s.Driver.Bulk(ctx, index, ops, refresh)
	if err == nil {
		_ = os.WriteFile(s.marker+".tmp", []byte(strconv.Itoa(len(ops))), 0o644)
		_ = os.Rename(s.marker+".tmp", s.marker)
		time.Sleep(2 * time.Minute) // killed here
	}
	return res, err
}

// TestHelperBleveConsumer is the child of TestKillConsumerBleve.
func TestHelperBleveConsumer(t *testing.T) {
	if os.Getenv(helperEnv) != "bleve-consumer" {
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
	drv, err := blevesearch.New(ctx, os.Getenv("HELPER_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(ctx, &stallingDriver{Driver: drv, marker: os.Getenv("HELPER_MARKER")})
	if err != nil {
		t.Fatal(err)
	}
	idx := search.NewIndexer(eng, tc, search.WithBatch(100, 20*time.Millisecond))
	idx.ReadFrom(store)
	if err := tc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Minute)
}

// TestKillConsumerBleve: the same crash on the embedded engine, where the
// child owns the bleve directory: a batch confirmed by bleve (persisted) but
// not acknowledged survives the SIGKILL, is redelivered after the restart,
// and the drift check reports zero.
func TestKillConsumerBleve(t *testing.T) {
	ctx := context.Background()
	dbURL := sqldbtest.FreshURL(t, sqldb.SQLite)
	db, err := sqldb.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	marker := filepath.Join(t.TempDir(), "bulk-done")
	e := newEnv(t, db, "bleve://"+dir)
	const n = 250
	for i := 0; i < n; i++ {
		if _, err := e.store.Create(ctx, doc(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.eng.Close(); err != nil { // the child takes the directory
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBleveConsumer$")
	cmd.Env = append(os.Environ(), helperEnv+"=bleve-consumer", "HELPER_DB="+dbURL, "HELPER_DIR="+dir, "HELPER_MARKER="+marker)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var applied int
	for {
		if b, err := os.ReadFile(marker); err == nil {
			applied, _ = strconv.Atoi(string(b))
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("child never completed a bulk request")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	// reopen the directory: the confirmed batch is on disk, unacknowledged
	e2 := newEnv(t, db, "bleve://"+dir)
	res, err := e2.ix.Query(ctx, &search.Spec{Query: search.MatchAll{}, TrackTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	completed, err := e2.tc.List(ctx, tasks.ListParams{State: tasks.StateCompleted, Type: search.DefaultTaskType})
	if err != nil {
		t.Fatal(err)
	}
	if applied == 0 || res.Total != int64(applied) || len(completed) != 0 {
		t.Fatalf("after the kill: %d docs on disk from a confirmed bulk of %d, %d tasks acknowledged", res.Total, applied, len(completed))
	}
	e2.start(t)
	waitIdle(t, e2.tc)
	rep, err := e2.idx.CheckDrift(ctx, search.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.Records != n || rep.Docs != n {
		t.Fatalf("drift after restart: %+v", rep)
	}
}
