package blevesearch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
)

var onePassDef = search.Definition{Mappings: json.RawMessage(`{"properties": {
  "created": {"type": "date"}, "year": {"type": "integer"}, "title": {"type": "text"},
  "type": {"type": "keyword"}, "tags": {"type": "keyword"}, "flag": {"type": "boolean"}}}`)}

// TestOnePassEqualsMultiPass runs random searches (queries, sorts by date,
// number or keyword, pages, cursors, post filters and facets with their own
// filters, as the Searcher builds them) on a random corpus with ties,
// missing and multi-valued fields, updates and deletes, through the
// one-pass path and the multi-pass path it replaced: totals, hits (ids,
// revisions, sources, sort values) and facet counts must be equal.
func TestOnePassEqualsMultiPass(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			ctx := context.Background()
			e, err := search.Open(ctx, fmt.Sprintf("bleve://%s?sync=false&shards=%d", t.TempDir(), shards))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			ix, err := e.CreateIndex(ctx, "docs", onePassDef)
			if err != nil {
				t.Fatal(err)
			}
			d := e.Driver().(*blevesearch.Driver)
			r := rand.New(rand.NewPCG(7, uint64(shards)))
			words := []string{"alpha", "beta", "gamma", "delta", "omega"}
			types := []string{"a", "b", "c", "d", "e"}
			tags := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"}
			doc := func() json.RawMessage {
				m := map[string]any{"title": words[r.IntN(5)] + " " + words[r.IntN(5)]}
				if r.IntN(10) > 0 { // ties: 200 distinct times
					m["created"] = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(200)) * time.Hour).Format(time.RFC3339)
				}
				switch r.IntN(6) {
				case 0:
				case 1:
					m["year"] = []int{1990 + r.IntN(30), 1990 + r.IntN(30)}
				default:
					m["year"] = 1990 + r.IntN(30)
				}
				if r.IntN(8) > 0 {
					m["type"] = types[r.IntN(len(types))]
				}
				var ts []string
				for range r.IntN(4) {
					ts = append(ts, tags[r.IntN(len(tags))])
				}
				m["tags"] = ts
				m["flag"] = r.IntN(2) == 0
				b, _ := json.Marshal(m)
				return b
			}
			const n = 1500
			for batch := 0; batch < 6; batch++ {
				var ops []search.Op
				for j := 0; j < n/6; j++ {
					id := fmt.Sprintf("doc-%04d", r.IntN(n))
					if r.IntN(12) == 0 {
						ops = append(ops, search.Op{Kind: search.OpDelete, ID: id, Revision: int64(batch + 1)})
					} else {
						ops = append(ops, search.Op{Kind: search.OpIndex, ID: id, Revision: int64(batch + 1), Source: doc()})
					}
				}
				if _, err := ix.Bulk(ctx, ops); err != nil {
					t.Fatal(err)
				}
			}
			if err := ix.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			sorts := [][]search.SortField{
				{{Field: "created", Desc: true}}, {{Field: "created"}}, {{Field: "year", Desc: true}},
				{{Field: "year"}}, {{Field: "type"}}, {{Field: "created", Desc: true}, {Field: "type"}},
			}
			facetFields := []string{"type", "tags", "flag", "year"}
			pick := func(f string) string {
				switch f {
				case "type":
					return types[r.IntN(len(types))]
				case "tags":
					return tags[r.IntN(len(tags))]
				case "flag":
					return []string{"true", "false"}[r.IntN(2)]
				}
				return fmt.Sprint(1990 + r.IntN(30))
			}
			filterOf := func(f, v string) search.Query {
				if f == "year" {
					return search.Range{Field: f, Kind: search.Number, From: v, To: v, IncludeFrom: true, IncludeTo: true}
				}
				return search.Term{Field: f, Value: v}
			}
			searches := func(phase string) {
				for i := 0; i < 150; i++ {
					s := &search.Spec{Size: r.IntN(25), From: r.IntN(30), Sort: sorts[r.IntN(len(sorts))], TrackTotal: true}
					if s.Size == 0 {
						s.From = 0 // bleve's index alias returns From hits for size 0
					}
					switch r.IntN(3) {
					case 0:
						s.Query = search.MatchAll{}
					case 1:
						s.Query = search.Match{Fields: []string{"title"}, Text: words[r.IntN(5)]}
					default:
						s.Query = search.Match{Fields: []string{"title"}, Text: words[r.IntN(5)] + " " + words[r.IntN(5)]}
					}
					// facet selections with post_filter semantics
					sel := map[string]search.Query{}
					for _, f := range facetFields {
						if r.IntN(3) == 0 {
							sel[f] = filterOf(f, pick(f))
						}
					}
					var all []search.Query
					for _, f := range facetFields {
						if q, ok := sel[f]; ok {
							all = append(all, q)
						}
					}
					if len(all) > 0 {
						s.PostFilter = search.And(all...)
					}
					for _, f := range facetFields {
						if r.IntN(3) == 0 {
							continue // a random subset of the facets
						}
						var others []search.Query
						for _, g := range facetFields {
							if q, ok := sel[g]; ok && g != f {
								others = append(others, q)
							}
						}
						fs := search.FacetSpec{Name: f, Field: f, Size: 1 + r.IntN(10)}
						if len(others) > 0 {
							fs.Filter = search.And(others...)
						}
						s.Facets = append(s.Facets, fs)
					}
					run := func(multi bool, s *search.Spec) *search.Results {
						blevesearch.SetMultiPass(d, multi)
						defer blevesearch.SetMultiPass(d, false)
						res, err := ix.Query(ctx, s)
						if err != nil {
							t.Fatalf("%s: search %d (multi-pass %v): %v", phase, i, multi, err)
						}
						for j := range res.Hits {
							res.Hits[j].Score = 0 // unscored in the one-pass path: sorted by fields
						}
						return res
					}
					want, got := run(true, s), run(false, s)
					if !reflect.DeepEqual(want, got) {
						t.Fatalf("%s: search %d %+v:\nmulti-pass %s\none-pass   %s", phase, i, s, dump(want), dump(got))
					}
					if want.Next != "" && r.IntN(2) == 0 { // the next page by cursor
						s2 := *s
						s2.From, s2.Size = 0, 1+r.IntN(25)
						var c struct {
							A []json.RawMessage `json:"a"`
						}
						if err := decodeNext(want.Next, &c); err != nil {
							t.Fatal(err)
						}
						s2.After = c.A
						want, got := run(true, &s2), run(false, &s2)
						if !reflect.DeepEqual(want, got) {
							t.Fatalf("%s: search %d after %s:\nmulti-pass %s\none-pass   %s", phase, i, c.A, dump(want), dump(got))
						}
					}
				}
			}
			searches("with tombstones")
			// without tombstones, searches skip their exclusion (and the
			// one-pass path may take the query's matches as bitmaps)
			if _, left, err := d.PurgeTombstones(ctx, ix.Name(), time.Now().Add(time.Hour)); err != nil || left != 0 {
				t.Fatalf("purge: %d left, %v", left, err)
			}
			searches("without tombstones")
		})
	}
}

func dump(r *search.Results) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// decodeNext decodes a Results.Next cursor (base64url JSON).
func decodeNext(next string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
