package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
)

// A reindex of large documents sends requests of about 512 KiB of sources,
// not ReindexBatch documents each: the memory a request takes grows with
// its bytes, whatever the number of documents.
func TestReindexBatchesBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	e, err := search.Open(ctx, "bleve://"+t.TempDir()+"?sync=false")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	def := search.Definition{Mappings: json.RawMessage(`{"properties": {"title": {"type": "text"}}}`)}
	ix, err := e.EnsureIndex(ctx, "big", def)
	if err != nil {
		t.Fatal(err)
	}
	const n, docSize = 300, 20 << 10
	body := strings.Repeat("x", docSize)
	var ops []search.Op
	for i := range n {
		src, _ := json.Marshal(map[string]string{"title": fmt.Sprintf("doc %d", i), "body": body})
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: fmt.Sprintf("%04d", i), Revision: 1, Source: src})
	}
	if _, err := ix.Bulk(ctx, ops); err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	var last int64
	err = ix.Reindex(ctx, def, search.ReindexBatch(500), search.OnProgress(func(p search.Progress) {
		if p.Phase == "copy" {
			sizes = append(sizes, p.Done-last)
			last = p.Done
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if last != n {
		t.Fatalf("copied %d documents, want %d", last, n)
	}
	// the first request takes at most 100 documents (their size is not
	// known yet), the next ones what fits in 512 KiB at 20 KiB each
	if sizes[0] > 100 {
		t.Errorf("first request: %d documents, want at most 100", sizes[0])
	}
	for i, s := range sizes[1:] {
		if s > (512<<10)/docSize {
			t.Errorf("request %d: %d documents of %d bytes, want at most %d (512 KiB)", i+2, s, docSize, (512<<10)/docSize)
		}
	}
	res, err := ix.Query(ctx, &search.Spec{Query: search.MatchAll{}, Size: 0, TrackTotal: true})
	if err != nil || res.Total != n {
		t.Fatalf("after the reindex: %v, %+v", err, res)
	}
}
