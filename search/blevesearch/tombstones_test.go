package blevesearch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
)

var tombDef = search.Definition{Mappings: json.RawMessage(`{"properties": {"title": {"type": "text"}, "kind": {"type": "keyword"}}}`)}

func tombID(i int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", i) }

func tombDoc(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"title": "record %d", "kind": "k%d"}`, i, i%3))
}

// openTomb opens a driver on dir (query: URL options) with index "t".
func openTomb(t *testing.T, dir, query string) (*search.Engine, *search.Index, *blevesearch.Driver) {
	t.Helper()
	ctx := context.Background()
	e, err := search.Open(ctx, "bleve://"+dir+"?"+query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() }) // closing twice is fine
	ix, err := e.EnsureIndex(ctx, "t", tombDef)
	if err != nil {
		t.Fatal(err)
	}
	return e, ix, e.Driver().(*blevesearch.Driver)
}

func bulk(t *testing.T, ix *search.Index, ops []search.Op) []search.OpResult {
	t.Helper()
	rs, err := ix.Bulk(context.Background(), ops)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func tombsOf(t *testing.T, d *blevesearch.Driver, name string) (tombs, docs uint64) {
	t.Helper()
	tombs, docs, err := d.Tombstones(name)
	if err != nil {
		t.Fatal(err)
	}
	return tombs, docs
}

// notKind matches every document without kind k0: a tombstone (which has
// no kind) would match it if searches did not exclude tombstones.
var notKind = search.Bool{MustNot: []search.Query{search.Term{Field: "kind", Value: "k0"}}}

func TestTombstonesCountedAndPurged(t *testing.T) {
	for _, shards := range []string{"1", "3"} {
		t.Run("shards="+shards, func(t *testing.T) { testTombstones(t, shards) })
	}
}

func testTombstones(t *testing.T, shards string) {
	ctx := context.Background()
	dir := t.TempDir()
	e, ix, d := openTomb(t, dir, "shards="+shards)
	name := ix.Alias()
	var ops []search.Op
	for i := 0; i < 60; i++ {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: tombID(i), Revision: 1, Source: tombDoc(i)})
	}
	bulk(t, ix, ops)
	if tombs, docs := tombsOf(t, d, name); tombs != 0 || docs != 60 {
		t.Fatalf("after 60 creates: %d tombstones, %d docs", tombs, docs)
	}
	// delete 30 (one twice in the batch), undelete one of them
	ops = ops[:0]
	for i := 0; i < 30; i++ {
		ops = append(ops, search.Op{Kind: search.OpDelete, ID: tombID(i), Revision: 2})
	}
	ops = append(ops, search.Op{Kind: search.OpDelete, ID: tombID(0), Revision: 3},
		search.Op{Kind: search.OpIndex, ID: tombID(1), Revision: 3, Source: tombDoc(1)})
	bulk(t, ix, ops)
	if tombs, docs := tombsOf(t, d, name); tombs != 29 || docs != 60 {
		t.Fatalf("after 30 deletes, 1 undelete: %d tombstones (want 29), %d docs (want 60)", tombs, docs)
	}
	res, err := ix.Query(ctx, &search.Spec{Query: notKind, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if len(h.Source) == 0 {
			t.Fatalf("a tombstone matched: %+v", h)
		}
	}
	// a purge before the tombstones were written deletes none
	if n, left, err := d.PurgeTombstones(ctx, name, time.Now().Add(-time.Hour)); err != nil || n != 0 || left != 29 {
		t.Fatalf("purge of older tombstones: %d purged, %d left, %v", n, left, err)
	}
	// a late stale write is still refused
	if rs := bulk(t, ix, []search.Op{{Kind: search.OpIndex, ID: tombID(5), Revision: 1, Source: tombDoc(5)}}); rs[0].Status != search.Stale {
		t.Fatalf("stale write over a tombstone: %v", rs[0].Status)
	}
	// reopening counts them again
	e.Close()
	e, ix, d = openTomb(t, dir, "")
	defer e.Close()
	if tombs, _ := tombsOf(t, d, name); tombs != 29 {
		t.Fatalf("after reopening: %d tombstones (want 29)", tombs)
	}
	n, left, err := d.PurgeTombstones(ctx, ix.Alias(), time.Now().Add(time.Second))
	if err != nil || n != 29 || left != 0 {
		t.Fatalf("purge: %d purged, %d left, %v (want 29, 0)", n, left, err)
	}
	if tombs, docs := tombsOf(t, d, name); tombs != 0 || docs != 31 {
		t.Fatalf("after purge: %d tombstones, %d docs (want 0, 31)", tombs, docs)
	}
	// without tombstones the exclusion is skipped: results are the same
	res2, err := ix.Query(ctx, &search.Spec{Query: notKind, Size: 100, TrackTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Total != res.Total || res2.Total == 0 {
		t.Fatalf("not-k0 total %d after purge, %d before", res2.Total, res.Total)
	}
	refs, err := d.Refs(ctx, name, "", 100)
	if err != nil || len(refs) != 31 {
		t.Fatalf("refs after purge: %d, %v (want 31)", len(refs), err)
	}
	// a delete adds a tombstone again, excluded at once
	bulk(t, ix, []search.Op{{Kind: search.OpDelete, ID: tombID(40), Revision: 2}})
	if tombs, _ := tombsOf(t, d, name); tombs != 1 {
		t.Fatalf("after one more delete: %d tombstones", tombs)
	}
	res3, err := ix.Query(ctx, &search.Spec{Query: search.MatchAll{}, Size: 100, TrackTotal: true})
	if err != nil || res3.Total != 30 {
		t.Fatalf("match_all after one more delete: %d, %v (want 30)", res3.Total, err)
	}
}

// TestTombstoneExclusionRace: searches skipping the exclusion (no
// tombstones) while deletes add some never return a tombstone.
func TestTombstoneExclusionRace(t *testing.T) {
	ctx := context.Background()
	e, ix, _ := openTomb(t, t.TempDir(), "sync=false&shards=2")
	defer e.Close()
	const n = 400
	var ops []search.Op
	for i := 0; i < n; i++ {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: tombID(i), Revision: 1, Source: tombDoc(i)})
	}
	bulk(t, ix, ops)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 10 {
			if _, err := ix.Bulk(ctx, []search.Op{{Kind: search.OpDelete, ID: tombID(i), Revision: 2}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for searches := 0; ; searches++ {
		res, err := ix.Query(ctx, &search.Spec{Query: notKind, Size: n, TrackTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if len(h.Source) == 0 {
				t.Fatalf("search %d returned tombstone %s", searches, h.ID)
			}
		}
		select {
		case <-done:
			return
		default:
		}
	}
}

func TestShardsLayout(t *testing.T) {
	dir := t.TempDir()
	e, ix, d := openTomb(t, dir, "shards=4")
	defer e.Close()
	var ops []search.Op
	for i := 0; i < 200; i++ {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: tombID(i), Revision: 1, Source: tombDoc(i)})
	}
	bulk(t, ix, ops)
	per, err := blevesearch.ShardDocs(d, ix.Alias())
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, n := range per {
		if n == 0 {
			t.Fatalf("a shard got no document: %v", per)
		}
		sum += n
	}
	if len(per) != 4 || sum != 200 {
		t.Fatalf("shards %v (want 4 holding 200)", per)
	}
	cs, err := d.Resolve(context.Background(), ix.Alias())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, cs[0], "s3")); err != nil {
		t.Fatal(err)
	}
	// a driver opened without the option keeps the index's 4 shards
	e.Close()
	e2, ix2, d2 := openTomb(t, dir, "")
	defer e2.Close()
	if per, err := blevesearch.ShardDocs(d2, ix2.Alias()); err != nil || len(per) != 4 {
		t.Fatalf("reopened: %v, %v", per, err)
	}
	if _, err := search.Open(context.Background(), "bleve://"+t.TempDir()+"?shards=0"); err == nil {
		t.Fatal("shards=0 accepted")
	}
}
