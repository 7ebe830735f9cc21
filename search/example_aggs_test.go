package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
)

// Aggregations on the embedded engine: a terms aggregation with a yearly
// date histogram per bucket, a numeric histogram, ranges, stats and
// cardinality, in one request.
func Example_aggregations() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "aggs-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	e, err := search.Open(ctx, "bleve://"+dir+"?sync=false")
	if err != nil {
		panic(err)
	}
	defer e.Close()
	ix, err := e.CreateIndex(ctx, "records", search.Definition{Mappings: json.RawMessage(`{"properties": {
		"type": {"type": "keyword"}, "size": {"type": "long"}, "created": {"type": "date"}}}`)})
	if err != nil {
		panic(err)
	}
	var ops []search.Op
	for i, r := range []string{
		`{"type": "dataset", "size": 500, "created": "2019-03-01"}`,
		`{"type": "dataset", "size": 2500, "created": "2021-07-15"}`,
		`{"type": "software", "size": 1200, "created": "2021-01-02"}`,
		`{"type": "dataset", "size": 900, "created": "2021-11-30"}`,
	} {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: fmt.Sprint(i), Revision: 1, Source: json.RawMessage(r)})
	}
	if _, err := ix.Bulk(ctx, ops, search.Refresh()); err != nil {
		panic(err)
	}
	res, err := ix.Query(ctx, &search.Spec{Size: 0, Aggs: []search.Agg{
		search.TermsAgg("types", "type", 10, search.DateHistogramAgg("per_year", "created", search.Year)),
		search.HistogramAgg("sizes", "size", 1000),
		search.RangeAgg("bands", "size", search.RangeSpec{To: "1000"}, search.RangeSpec{Key: "big", From: "1000"}),
		search.MetricAgg("size_stats", search.AggStats, "size"),
		search.MetricAgg("kinds", search.AggCardinality, "type"),
	}})
	if err != nil {
		panic(err)
	}
	for _, b := range res.Aggs["types"].Buckets {
		fmt.Println(b.Key, b.Count)
		for _, y := range b.Aggs["per_year"].Buckets {
			fmt.Println("  ", y.Key[:4], y.Count)
		}
	}
	for _, b := range res.Aggs["sizes"].Buckets {
		fmt.Printf("size %s: %d\n", b.Key, b.Count)
	}
	for _, b := range res.Aggs["bands"].Buckets {
		fmt.Printf("band %s: %d\n", b.Key, b.Count)
	}
	st := res.Aggs["size_stats"].Stats
	fmt.Printf("count %d min %v max %v avg %v sum %v\n", st.Count, st.Min, st.Max, st.Avg, st.Sum)
	fmt.Println("distinct types:", *res.Aggs["kinds"].Value)
	// Output:
	// dataset 3
	//    2019 1
	//    2020 0
	//    2021 2
	// software 1
	//    2021 1
	// size 0: 2
	// size 1000: 1
	// size 2000: 1
	// band *-1000.0: 2
	// band big: 2
	// count 4 min 500 max 2500 avg 1275 sum 5100
	// distinct types: 2
}
