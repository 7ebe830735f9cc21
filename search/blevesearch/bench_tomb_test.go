package blevesearch_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
)

// zenodoSpec is the query of BenchmarkZenodoQuery as a driver spec: two
// words in title or description, two filters, three facets, newest first,
// 25 hits.
func zenodoSpec() *search.Spec {
	var must []search.Query
	for _, w := range []string{vocab[3], vocab[10]} {
		must = append(must, search.Match{Fields: []string{"title", "description"}, Text: w})
	}
	return &search.Spec{
		Query: search.Bool{Must: must, Filter: []search.Query{search.Term{Field: "type", Value: "dataset"}, search.Term{Field: "access", Value: "open"}}},
		Facets: []search.FacetSpec{
			{Name: "type", Field: "type", Size: 10}, {Name: "subtype", Field: "subtype", Size: 10}, {Name: "creators", Field: "creators", Size: 10},
		},
		Sort: []search.SortField{{Field: "created", Desc: true}, {Field: "_id"}},
		Size: 25,
	}
}

// BenchmarkTombstoneExclusion measures what skipping the tombstone
// exclusion gains on an index without tombstones (the common case once
// they are purged): the same driver search with the exclusion forced
// (every search before) and skipped. One op = one search; p50/p95/p99
// and the process CPU time per search.
func BenchmarkTombstoneExclusion(b *testing.B) {
	ix, _ := benchIndex(b)
	d := queryEngine.Driver().(*blevesearch.Driver)
	name := ix.Alias()
	for _, c := range []struct {
		name string
		run  func(context.Context, *search.Spec) (*search.Results, error)
	}{
		{"excluded", func(ctx context.Context, s *search.Spec) (*search.Results, error) {
			return blevesearch.SearchExcluding(ctx, d, name, s)
		}},
		{"skipped", func(ctx context.Context, s *search.Spec) (*search.Results, error) { return d.Search(ctx, name, s) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := c.run(ctx, zenodoSpec())
				if err != nil {
					b.Fatal(err)
				}
				if res.Total == 0 {
					b.Fatal("no hits")
				}
				lat = append(lat, time.Since(t0))
			}
			// CPU per search: what a loaded machine distorts least
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			percentiles(b, lat)
		})
	}
}

// BenchmarkTombstonePurge: an index of N documents (REPOKIT_BENCH_DOCS)
// sees N/2 deletes; reports its documents (live + tombstones) and disk
// size before the purge, after it, and after reopening, and the purge
// time. Run with -benchtime 1x.
func BenchmarkTombstonePurge(b *testing.B) {
	n := benchDocs()
	docs := makeDocs(n)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := context.Background()
		dir := b.TempDir()
		url := "bleve://" + dir + "?sync=false" + benchShards()
		e, err := search.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		ix, err := e.CreateIndex(ctx, "bench", benchDef)
		if err != nil {
			b.Fatal(err)
		}
		write := func(mk func(j int) search.Op) {
			ops := make([]search.Op, 0, benchBatch)
			for j := 0; j < n; j++ {
				op := mk(j)
				if op.ID == "" {
					continue
				}
				ops = append(ops, op)
				if len(ops) == benchBatch {
					if _, err := ix.Bulk(ctx, ops); err != nil {
						b.Fatal(err)
					}
					ops = ops[:0]
				}
			}
			if len(ops) > 0 {
				if _, err := ix.Bulk(ctx, ops); err != nil {
					b.Fatal(err)
				}
			}
		}
		id := func(j int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", j) }
		write(func(j int) search.Op { return search.Op{Kind: search.OpIndex, ID: id(j), Revision: 1, Source: docs[j]} })
		write(func(j int) search.Op {
			if j%2 == 1 {
				return search.Op{}
			}
			return search.Op{Kind: search.OpDelete, ID: id(j), Revision: 2}
		})
		d := e.Driver().(*blevesearch.Driver)
		report := func(stage string) {
			tombs, count, err := d.Tombstones(ix.Alias())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(count), "docs-"+stage)
			b.ReportMetric(float64(tombs), "tombs-"+stage)
			b.ReportMetric(float64(dirSize(b, dir))/(1<<20), "MiB-"+stage)
		}
		e.Close() // let bleve persist and settle, as a restarted process
		if e, err = search.Open(ctx, url); err != nil {
			b.Fatal(err)
		}
		d = e.Driver().(*blevesearch.Driver)
		if ix, err = e.OpenIndex(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		report("before")
		b.StartTimer()
		t0 := time.Now()
		purged, left, err := d.PurgeTombstones(ctx, ix.Alias(), time.Now().Add(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if purged != int64((n+1)/2) || left != 0 {
			b.Fatalf("purged %d, %d left (want %d, 0)", purged, left, (n+1)/2)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "purge-s")
		report("after")
		e.Close()
		if e, err = search.Open(ctx, url); err != nil {
			b.Fatal(err)
		}
		d = e.Driver().(*blevesearch.Driver)
		report("reopened")
		e.Close()
	}
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		fi, err := de.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
