package search_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
)

// TestAfterIndex: the AfterIndexFunc hears of every record once the engine
// confirmed it, and by then the record is searchable.
func TestAfterIndex(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	heard := map[string]bool{}
	var e *env
	searchableWhenHeard := true
	e = newEnv(t, sqldbtest.Fresh(t, sqldb.SQLite), "bleve://"+t.TempDir(), search.WithAfterIndex(func(ctx context.Context, index string, ids []string) {
		if index != "records" {
			t.Errorf("index %q", index)
		}
		if err := e.ix.Refresh(ctx); err != nil {
			t.Error(err)
		}
		for _, id := range ids {
			res, err := e.ix.Query(ctx, &search.Spec{Query: search.Term{Field: "id", Value: id}, Size: 1, TrackTotal: true})
			mu.Lock()
			heard[id] = true
			if err != nil || res.Total != 1 {
				searchableWhenHeard = false
			}
			mu.Unlock()
		}
	}))
	var ids []string
	for i := range 5 {
		r, err := e.store.Create(ctx, doc(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID.String())
	}
	e.start(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, id := range ids {
			if heard[id] {
				n++
			}
		}
		mu.Unlock()
		if n == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heard %d of %d records after 60s", n, len(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if !searchableWhenHeard {
		t.Fatal("a record was reported before it was searchable")
	}
	if slices.ContainsFunc(ids, func(id string) bool { return !heard[id] }) {
		t.Fatal("missing ids")
	}
}
