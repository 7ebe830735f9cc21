package searchtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/repokit/repokit/search"
)

func testGeo(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, docs := seededPlaces(t, h, 60)
	// the other forms OpenSearch accepts for a geo_point, near Geneva
	extra := map[string]string{
		"x-string":  `{"kind": "museum", "city": "geneva", "location": "46.2,6.15"}`,
		"x-array":   `{"kind": "museum", "city": "geneva", "location": [6.16, 46.21]}`,
		"x-geohash": `{"kind": "museum", "city": "geneva", "location": "u0hqgtkb"}`,
	}
	var ops []search.Op
	for id, src := range extra {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: id, Revision: 1, Source: json.RawMessage(src)})
	}
	rs, err := ix.Bulk(ctx, ops, search.Refresh())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != search.Applied {
			t.Fatalf("%s: %v %s", r.ID, r.Status, r.Reason)
		}
	}
	bad, err := ix.Put(ctx, search.Document{ID: "x-bad", Revision: 1, Source: json.RawMessage(`{"location": {"lat": 100, "lon": 0}}`)}, search.Refresh())
	if err == nil && bad == search.Applied {
		t.Errorf("a latitude of 100 was accepted")
	}

	byCity := func(cs ...string) []string {
		var out []string
		for _, d := range docs {
			for _, c := range cs {
				if d.City == c {
					out = append(out, d.ID)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	withExtra := func(ids []string) []string {
		out := append([]string{}, ids...)
		for id := range extra {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	check := func(what string, q search.Query, want []string) {
		t.Helper()
		res, err := ix.Query(ctx, &search.Spec{Query: q, Size: 100, TrackTotal: true})
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if got := sortedIDs(res); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got  %v\n want %v", what, got, want)
		}
	}
	gva, par := Cities["geneva"], Cities["paris"]
	check("geo_distance 50km of Geneva", search.GeoDistance{Field: "location", Center: gva, Meters: 50000}, withExtra(byCity("geneva")))
	check("geo_distance 500km of Geneva", search.GeoDistance{Field: "location", Center: gva, Meters: 500000}, withExtra(byCity("geneva", "paris")))
	check("geo_distance 1km of Paris centre", search.GeoDistance{Field: "location", Center: par, Meters: 1000}, wantPlaces(docs, func(d PlaceDoc) bool {
		return search.Distance(par, d.Location) <= 1000
	}))
	check("geo_bounding_box over Europe", search.GeoBoundingBox{Field: "location", TopLeft: search.Point{Lat: 55, Lon: -5}, BottomRight: search.Point{Lat: 45, Lon: 15}},
		withExtra(byCity("geneva", "paris", "berlin")))
	check("geo_polygon around Paris and Geneva", search.GeoPolygon{Field: "location", Points: []search.Point{{Lat: 51, Lon: -1}, {Lat: 51, Lon: 10}, {Lat: 43, Lon: 5}}},
		withExtra(byCity("geneva", "paris")))
	check("geo filter with a term", search.AndFilter(search.Term{Field: "kind", Value: "library"}, search.GeoDistance{Field: "location", Center: gva, Meters: 50000}),
		wantPlaces(docs, func(d PlaceDoc) bool { return d.City == "geneva" && d.Kind == "library" }))
	check("not within 500km of Geneva", search.Bool{MustNot: []search.Query{search.GeoDistance{Field: "location", Center: gva, Meters: 500000}}},
		byCity("berlin", "nyc"))

	// sort by distance from Berlin: the Berlin cluster first, nearest first
	ber := Cities["berlin"]
	res, err := ix.Query(ctx, &search.Spec{Query: search.Term{Field: "city", Value: "berlin"}, Size: 100,
		Sort: []search.SortField{{Field: "location", Near: &ber}}})
	if err != nil {
		t.Fatal(err)
	}
	var berlin []PlaceDoc
	for _, d := range docs {
		if d.City == "berlin" {
			berlin = append(berlin, d)
		}
	}
	sort.Slice(berlin, func(i, j int) bool {
		return search.Distance(ber, berlin[i].Location) < search.Distance(ber, berlin[j].Location)
	})
	var want []string
	for _, d := range berlin {
		want = append(want, d.ID)
	}
	if got := ids(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("distance sort:\n got  %v\n want %v", got, want)
	}
	for i, hit := range res.Hits {
		if i >= len(berlin) || len(hit.Sort) == 0 {
			break
		}
		var v any
		_ = json.Unmarshal(hit.Sort[0], &v)
		var m float64
		switch x := v.(type) {
		case float64:
			m = x
		case string:
			_, _ = fmt.Sscan(x, &m)
		}
		if exp := search.Distance(ber, berlin[i].Location); math.Abs(m-exp) > 0.005*exp+1 {
			t.Errorf("distance sort value of %s: %v m, want about %v m", hit.ID, m, exp)
		}
	}
	// pages by search_after on the distance sort
	var paged []string
	var after []json.RawMessage
	for page := 0; page < 10; page++ {
		res, err := ix.Query(ctx, &search.Spec{Query: search.Term{Field: "city", Value: "berlin"}, Size: 4, After: after,
			Sort: []search.SortField{{Field: "location", Near: &ber}}})
		if err != nil {
			t.Fatalf("distance sort page %d: %v", page, err)
		}
		if len(res.Hits) == 0 {
			break
		}
		paged = append(paged, ids(res)...)
		after = res.Hits[len(res.Hits)-1].Sort
	}
	if fmt.Sprint(paged) != fmt.Sprint(want) {
		t.Errorf("distance sort by pages:\n got  %v\n want %v", paged, want)
	}
	// descending: the farthest (New York) first
	res, err = ix.Query(ctx, &search.Spec{Size: 1, Sort: []search.SortField{{Field: "location", Near: &ber, Desc: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || !contains(byCity("nyc"), res.Hits[0].ID) {
		t.Errorf("farthest from Berlin: %v", ids(res))
	}

	// geohash grid, with a terms sub-aggregation
	res, err = ix.Query(ctx, &search.Spec{Query: search.Bool{MustNot: []search.Query{search.Prefix{Field: "city", Value: "x"}}}, Aggs: []search.Agg{
		search.GeohashGridAgg("cells3", "location", 3),
		search.GeohashGridAgg("cells1", "location", 1, search.TermsAgg("kinds", "kind", 5)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	all := append([]PlaceDoc{}, docs...)
	for id := range extra {
		all = append(all, PlaceDoc{ID: id, Kind: "museum"}) // located below
	}
	points := map[string]search.Point{}
	for _, d := range docs {
		points[d.ID] = d.Location
	}
	points["x-string"] = search.Point{Lat: 46.2, Lon: 6.15}
	points["x-array"] = search.Point{Lat: 46.21, Lon: 6.16}
	gh, _ := search.DecodeGeohash("u0hqgtkb")
	points["x-geohash"] = gh
	for _, prec := range []int{3, 1} {
		name := fmt.Sprintf("cells%d", prec)
		w := wantTerms(all, func(d PlaceDoc) []string { return []string{search.Geohash(points[d.ID], prec)} }, 10000)
		eqBuckets(t, name, res.Aggs[name], w)
	}
	if r := res.Aggs["cells1"]; r != nil {
		for _, b := range r.Buckets {
			var in []PlaceDoc
			for _, d := range all {
				if search.Geohash(points[d.ID], 1) == b.Key {
					in = append(in, d)
				}
			}
			eqBuckets(t, "cells1/"+b.Key+"/kinds", b.Aggs["kinds"], wantTerms(in, func(d PlaceDoc) []string { return []string{d.Kind} }, 5))
		}
	}

	// geo on a field that is not a geo_point is ErrInvalid
	for what, s := range map[string]*search.Spec{
		"distance on keyword":   {Query: search.GeoDistance{Field: "city", Center: gva, Meters: 10}},
		"box on unmapped":       {Query: search.GeoBoundingBox{Field: "nowhere", TopLeft: search.Point{Lat: 1}, BottomRight: search.Point{}}},
		"polygon of 2 points":   {Query: search.GeoPolygon{Field: "location", Points: []search.Point{{}, {Lat: 1}}}},
		"sort on keyword":       {Sort: []search.SortField{{Field: "city", Near: &gva}}},
		"grid on keyword":       {Aggs: []search.Agg{search.GeohashGridAgg("g", "city", 3)}},
		"latitude out of range": {Query: search.GeoDistance{Field: "location", Center: search.Point{Lat: 91}, Meters: 10}},
	} {
		if _, err := ix.Query(ctx, s); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", what, err)
		}
	}
}

func wantPlaces(docs []PlaceDoc, pred func(PlaceDoc) bool) []string {
	var out []string
	for _, d := range docs {
		if pred(d) {
			out = append(out, d.ID)
		}
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
