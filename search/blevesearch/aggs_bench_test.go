package blevesearch_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
)

// BenchmarkAggregations computes the same counts over all documents: a
// terms aggregation on a keyword, three numeric ranges and two date
// ranges, with bleve's own facets on a raw index of the same mapping
// (baseline) and with RepoKit's aggregations, which read doc values in one
// extra pass (repokit). repokit-nested adds what bleve's facets cannot do:
// terms → yearly date histogram, stats and cardinality.
func BenchmarkAggregations(b *testing.B) {
	ctx := context.Background()
	docs := makeDocs(benchDocs())
	m, err := blevesearch.Mapping(benchDef)
	if err != nil {
		b.Fatal(err)
	}
	raw := rawIndex(b, filepath.Join(b.TempDir(), "raw"), m, docs, true)
	defer raw.Close()
	e, err := search.Open(ctx, "bleve://"+b.TempDir()+"?sync=false")
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ix, err := e.CreateIndex(ctx, "records", benchDef)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(docs); i += benchBatch {
		var ops []search.Op
		for j := i; j < len(docs) && j < i+benchBatch; j++ {
			ops = append(ops, search.Op{Kind: search.OpIndex, ID: fmt.Sprint(j), Revision: 1, Source: docs[j]})
		}
		if _, err := ix.Bulk(ctx, ops, search.Refresh()); err != nil {
			b.Fatal(err)
		}
	}
	f := func(v float64) *float64 { return &v }
	cut := time.Date(2016, 6, 1, 0, 0, 0, 0, time.UTC)
	var lastRaw, lastOurs int
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 0, 0, false)
			req.AddFacet("types", bleve.NewFacetRequest("type", 10))
			yr := bleve.NewFacetRequest("year", 3)
			yr.AddNumericRange("old", nil, f(2010))
			yr.AddNumericRange("mid", f(2010), f(2020))
			yr.AddNumericRange("new", f(2020), nil)
			req.AddFacet("years", yr)
			cr := bleve.NewFacetRequest("created", 2)
			cr.AddDateTimeRange("before", time.Time{}, cut)
			cr.AddDateTimeRange("after", cut, time.Time{})
			req.AddFacet("eras", cr)
			res, err := raw.SearchInContext(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			lastRaw = res.Facets["types"].Terms.Terms()[0].Count
		}
	})
	spec := func(extra ...search.Agg) *search.Spec {
		return &search.Spec{Query: search.MatchAll{}, Size: 0, Aggs: append([]search.Agg{
			search.TermsAgg("types", "type", 10),
			search.RangeAgg("years", "year", search.RangeSpec{To: "2010"}, search.RangeSpec{From: "2010", To: "2020"}, search.RangeSpec{From: "2020"}),
			search.DateRangeAgg("eras", "created", search.RangeSpec{To: cut.Format(time.RFC3339)}, search.RangeSpec{From: cut.Format(time.RFC3339)}),
		}, extra...)}
	}
	b.Run("repokit", func(b *testing.B) {
		for b.Loop() {
			res, err := ix.Query(ctx, spec())
			if err != nil {
				b.Fatal(err)
			}
			lastOurs = int(res.Aggs["types"].Buckets[0].Count)
		}
	})
	if lastRaw != 0 && lastRaw != lastOurs {
		b.Fatalf("top type count: bleve %d, repokit %d", lastRaw, lastOurs)
	}
	b.Run("repokit-nested", func(b *testing.B) {
		for b.Loop() {
			if _, err := ix.Query(ctx, spec(
				search.TermsAgg("per_type", "type", 10, search.DateHistogramAgg("years", "created", search.Year)),
				search.MetricAgg("year_stats", search.AggStats, "year"),
				search.MetricAgg("creators", search.AggCardinality, "creators"),
			)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
