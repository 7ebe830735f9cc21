package blevesearch_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/repokit/repokit/search"
)

// TestConcurrentBulksKeepNewest runs bulk requests concurrently whose
// documents overlap (batches of other documents are applied in parallel,
// writes of one document are ordered by its id lock): every document must
// end at its highest revision (a delete leaving a tombstone), whatever the
// interleaving, and the tombstone count must match.
func TestConcurrentBulksKeepNewest(t *testing.T) {
	for _, shards := range []string{"1", "2"} {
		t.Run("shards="+shards, func(t *testing.T) {
			ctx := context.Background()
			_, ix, d := openTomb(t, t.TempDir(), "sync=false&shards="+shards)
			const ids, workers, bulks, size = 60, 4, 25, 15
			// unique revisions, shuffled: the final state of a document is
			// its op with the highest revision
			total := workers * bulks * size
			revs := rand.New(rand.NewPCG(7, 8)).Perm(total)
			type want struct {
				rev int64
				del bool
			}
			best := map[string]want{}
			plan := make([][][]search.Op, workers)
			r := rand.New(rand.NewPCG(9, 10))
			k := 0
			for w := range plan {
				for range bulks {
					var ops []search.Op
					for _, i := range r.Perm(ids)[:size] { // distinct ids within a bulk
						id := tombID(i)
						rev := int64(revs[k] + 1)
						k++
						op := search.Op{Kind: search.OpIndex, ID: id, Revision: rev, Source: []byte(fmt.Sprintf(`{"title": "rev %d", "kind": "k%d"}`, rev, rev))}
						if r.IntN(5) == 0 {
							op = search.Op{Kind: search.OpDelete, ID: id, Revision: rev}
						}
						if b, ok := best[id]; !ok || rev > b.rev {
							best[id] = want{rev: rev, del: op.Kind == search.OpDelete}
						}
						ops = append(ops, op)
					}
					plan[w] = append(plan[w], ops)
				}
			}
			var wg sync.WaitGroup
			for w := range plan {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, ops := range plan[w] {
						rs, err := ix.Bulk(ctx, ops)
						if err != nil {
							t.Error(err)
							return
						}
						for _, res := range rs {
							if res.Status != search.Applied && res.Status != search.Stale {
								t.Errorf("%s: %v %s", res.ID, res.Status, res.Reason)
							}
						}
					}
				}()
			}
			wg.Wait()
			var dels uint64
			for id, b := range best {
				res, err := ix.Query(ctx, &search.Spec{Query: search.IDs{Values: []string{id}}, Size: 2, TrackTotal: true})
				if err != nil {
					t.Fatal(err)
				}
				if b.del {
					dels++
					if len(res.Hits) != 0 {
						t.Errorf("%s: found at revision %d, want deleted at %d", id, res.Hits[0].Revision, b.rev)
					}
					continue
				}
				if len(res.Hits) != 1 || res.Hits[0].Revision != b.rev || !strings.Contains(string(res.Hits[0].Source), fmt.Sprintf(`"rev %d"`, b.rev)) {
					var got []string
					for _, h := range res.Hits {
						got = append(got, fmt.Sprintf("revision %d %s", h.Revision, h.Source))
					}
					t.Errorf("%s: %v, want revision %d", id, got, b.rev)
				}
			}
			if tombs, _ := tombsOf(t, d, ix.Alias()); tombs != dels {
				t.Errorf("%d tombstones counted, want %d", tombs, dels)
			}
		})
	}
}
