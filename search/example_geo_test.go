package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
)

// Geo queries on the embedded engine: a geo_point field, a distance
// filter, a sort by distance and a geohash grid.
func Example_geo() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "geo-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	e, err := search.Open(ctx, "bleve://"+dir+"?sync=false")
	if err != nil {
		panic(err)
	}
	defer e.Close()
	ix, err := e.CreateIndex(ctx, "sites", search.Definition{Mappings: json.RawMessage(`{"properties": {
		"name": {"type": "keyword"}, "location": {"type": "geo_point"}}}`)})
	if err != nil {
		panic(err)
	}
	var ops []search.Op
	for i, r := range []string{
		`{"name": "CERN", "location": {"lat": 46.2339, "lon": 6.0557}}`,
		`{"name": "EPFL", "location": "46.5191,6.5668"}`,
		`{"name": "ETH", "location": [8.5476, 47.3763]}`,
		`{"name": "DESY", "location": {"lat": 53.5770, "lon": 9.8794}}`,
	} {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: fmt.Sprint(i), Revision: 1, Source: json.RawMessage(r)})
	}
	if _, err := ix.Bulk(ctx, ops, search.Refresh()); err != nil {
		panic(err)
	}
	geneva := search.Point{Lat: 46.2044, Lon: 6.1432}
	res, err := ix.Query(ctx, &search.Spec{
		Query: search.GeoDistance{Field: "location", Center: geneva, Meters: 250_000},
		Sort:  []search.SortField{{Field: "location", Near: &geneva}},
		Size:  10,
		Aggs:  []search.Agg{search.GeohashGridAgg("cells", "location", 2)},
	})
	if err != nil {
		panic(err)
	}
	for _, h := range res.Hits {
		var src struct{ Name string }
		_ = json.Unmarshal(h.Source, &src)
		fmt.Println(src.Name)
	}
	for _, b := range res.Aggs["cells"].Buckets {
		fmt.Println(b.Key, b.Count)
	}
	// Output:
	// CERN
	// EPFL
	// ETH
	// u0 3
}
