package searchtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
)

// PlaceDefinition is the definition of the aggregation and geo sections:
// numbers, dates, booleans, keywords and a geo_point.
var PlaceDefinition = search.Definition{Mappings: json.RawMessage(`{
  "dynamic": false,
  "properties": {
    "kind": {"type": "keyword"},
    "city": {"type": "keyword"},
    "tags": {"type": "keyword"},
    "size": {"type": "long"},
    "score": {"type": "double"},
    "open": {"type": "boolean"},
    "created": {"type": "date"},
    "location": {"type": "geo_point"}
  }
}`), Settings: json.RawMessage(`{"number_of_shards": 1, "number_of_replicas": 0}`)}

// PlaceDoc is one document of the aggregation and geo sections.
type PlaceDoc struct {
	ID       string       `json:"-"`
	Kind     string       `json:"kind"`
	City     string       `json:"city"`
	Tags     []string     `json:"tags,omitempty"`
	Size     *int64       `json:"size,omitempty"`
	Score    float64      `json:"score"`
	Open     bool         `json:"open"`
	Created  time.Time    `json:"created"`
	Location search.Point `json:"location"`
}

// Cities are the centres the place documents are scattered around.
var Cities = map[string]search.Point{
	"geneva": {Lat: 46.2044, Lon: 6.1432},
	"paris":  {Lat: 48.8566, Lon: 2.3522},
	"berlin": {Lat: 52.5200, Lon: 13.4050},
	"nyc":    {Lat: 40.7128, Lon: -74.0060},
}

var cityNames = []string{"geneva", "paris", "berlin", "nyc", "geneva"}

// SeedPlaces returns n deterministic place documents: sizes spread over
// several thousands (every 7th has none), dates over four years, points
// within ~5 km of their city.
func SeedPlaces(n int) []PlaceDoc {
	base := time.Date(2019, 11, 3, 8, 0, 0, 0, time.UTC)
	out := make([]PlaceDoc, n)
	for i := range out {
		c := cityNames[i%len(cityNames)]
		p := Cities[c]
		// deterministic jitter in [-0.04, 0.04] degrees
		jl := float64((i*37)%81-40) / 1000
		jo := float64((i*53)%81-40) / 1000
		d := PlaceDoc{
			ID:       fmt.Sprintf("p-%03d", i),
			Kind:     []string{"museum", "library", "archive"}[i%3],
			City:     c,
			Score:    float64(i%10) + 0.25,
			Open:     i%4 != 0,
			Created:  base.Add(time.Duration(i*23) * 24 * time.Hour),
			Location: search.Point{Lat: p.Lat + jl, Lon: p.Lon + jo},
		}
		if i%7 != 6 {
			s := int64((i * 389) % 5200)
			switch i % 11 { // range bounds exactly: from is inclusive, to exclusive
			case 3:
				s = 1000
			case 5:
				s = 3000
			}
			d.Size = &s
		}
		if i%13 == 4 {
			d.Created = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC) // a date range bound
		}
		if i%2 == 0 {
			d.Tags = []string{"t" + fmt.Sprint(i%3), "t" + fmt.Sprint(i%5)}
		}
		out[i] = d
	}
	return out
}

func seededPlaces(t *testing.T, h Harness, n int) (*search.Index, []PlaceDoc) {
	t.Helper()
	ctx := ctxT(t)
	e := h.NewEngine(t)
	ix, err := e.CreateIndex(ctx, "places", PlaceDefinition)
	if err != nil {
		t.Fatal(err)
	}
	docs := SeedPlaces(n)
	ops := make([]search.Op, len(docs))
	for i, d := range docs {
		b, _ := json.Marshal(d)
		ops[i] = search.Op{Kind: search.OpIndex, ID: d.ID, Revision: 1, Source: b}
	}
	rs, err := ix.Bulk(ctx, ops, search.Refresh())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != search.Applied {
			t.Fatalf("seed %s: %v %s", r.ID, r.Status, r.Reason)
		}
	}
	return ix, docs
}

type wantBucket struct {
	key   string
	count int64
}

func bucketsOf(r *search.AggResult) []wantBucket {
	var out []wantBucket
	for _, b := range r.Buckets {
		out = append(out, wantBucket{b.Key, b.Count})
	}
	return out
}

func eqBuckets(t *testing.T, what string, got *search.AggResult, want []wantBucket) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no result", what)
		return
	}
	g := bucketsOf(got)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %v\n want %v", what, g, want)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func eqValue(t *testing.T, what string, got *search.AggResult, want *float64) {
	t.Helper()
	switch {
	case got == nil:
		t.Errorf("%s: no result", what)
	case want == nil && got.Value != nil:
		t.Errorf("%s: got %v, want no value", what, *got.Value)
	case want != nil && (got.Value == nil || !near(*got.Value, *want)):
		t.Errorf("%s: got %v, want %v", what, got.Value, *want)
	}
}

// histogram keys (counted once per document and bucket), with the empty
// buckets in between, computed directly.
func wantHistogram(keys [][]float64, next func(float64) float64, key func(float64) string) []wantBucket {
	counts := map[float64]int64{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ks := range keys {
		seen := map[float64]bool{}
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				counts[k]++
				lo, hi = math.Min(lo, k), math.Max(hi, k)
			}
		}
	}
	var out []wantBucket
	for k := lo; k <= hi; k = next(k) {
		out = append(out, wantBucket{key(k), counts[k]})
	}
	return out
}

func wantTerms(docs []PlaceDoc, val func(PlaceDoc) []string, size int) []wantBucket {
	counts := map[string]int64{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, v := range val(d) {
			if !seen[v] {
				seen[v] = true
				counts[v]++
			}
		}
	}
	var out []wantBucket
	for k, c := range counts {
		out = append(out, wantBucket{k, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].key < out[j].key
	})
	if len(out) > size {
		out = out[:size]
	}
	return out
}

func yearStart(t time.Time) time.Time { return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC) }

func testAggs(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, all := seededPlaces(t, h, 70)
	// the query keeps museums and libraries; the post filter (hits only)
	// must not change the aggregations
	q := search.Terms{Field: "kind", Values: []string{"museum", "library"}}
	var docs []PlaceDoc
	for _, d := range all {
		if d.Kind != "archive" {
			docs = append(docs, d)
		}
	}
	aggs := []search.Agg{
		search.TermsAgg("kinds", "kind", 10, search.DateHistogramAgg("per_year", "created", search.Year)),
		search.TermsAgg("cities", "city", 2),
		search.TermsAgg("tags", "tags", 10),
		search.TermsAgg("opens", "open", 10),
		search.HistogramAgg("sizes", "size", 1000),
		search.HistogramAgg("scores", "score", 2.5),
		search.DateHistogramAgg("per_month", "created", search.Month),
		search.RangeAgg("size_bands", "size",
			search.RangeSpec{From: "1000", To: "3000"}, search.RangeSpec{To: "1000"}, search.RangeSpec{Key: "big", From: "3000"}),
		search.DateRangeAgg("eras", "created", search.RangeSpec{To: "2021-01-01"}, search.RangeSpec{From: "2021-01-01"}),
		search.MetricAgg("size_min", search.AggMin, "size"),
		search.MetricAgg("size_max", search.AggMax, "size"),
		search.MetricAgg("size_avg", search.AggAvg, "size"),
		search.MetricAgg("size_sum", search.AggSum, "size"),
		search.MetricAgg("size_stats", search.AggStats, "size"),
		search.MetricAgg("first_created", search.AggMin, "created"),
		search.MetricAgg("cities_n", search.AggCardinality, "city"),
		search.MetricAgg("tags_n", search.AggCardinality, "tags"),
		search.MetricAgg("sizes_n", search.AggCardinality, "size"),
	}
	res, err := ix.Query(ctx, &search.Spec{Query: q, PostFilter: search.Term{Field: "city", Value: "paris"}, Size: 5, Aggs: aggs, TrackTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	paris := 0
	for _, d := range docs {
		if d.City == "paris" {
			paris++
		}
	}
	if res.Total != int64(paris) {
		t.Errorf("total %d, want %d (post filter applies to hits)", res.Total, paris)
	}

	// terms → date_histogram
	kinds := wantTerms(docs, func(d PlaceDoc) []string { return []string{d.Kind} }, 10)
	eqBuckets(t, "kinds", res.Aggs["kinds"], kinds)
	if r := res.Aggs["kinds"]; r != nil {
		for _, b := range r.Buckets {
			var keys [][]float64
			for _, d := range docs {
				if d.Kind == b.Key {
					keys = append(keys, []float64{float64(yearStart(d.Created).UnixMilli())})
				}
			}
			want := wantHistogram(keys, func(k float64) float64 {
				return float64(time.UnixMilli(int64(k)).UTC().AddDate(1, 0, 0).UnixMilli())
			}, search.DateKey)
			eqBuckets(t, "kinds/"+b.Key+"/per_year", b.Aggs["per_year"], want)
		}
	}
	eqBuckets(t, "cities (size 2)", res.Aggs["cities"], wantTerms(docs, func(d PlaceDoc) []string { return []string{d.City} }, 2))
	eqBuckets(t, "tags (multi-valued)", res.Aggs["tags"], wantTerms(docs, func(d PlaceDoc) []string { return d.Tags }, 10))
	eqBuckets(t, "opens (boolean)", res.Aggs["opens"], wantTerms(docs, func(d PlaceDoc) []string { return []string{fmt.Sprint(d.Open)} }, 10))

	// histograms
	var sizeKeys, scoreKeys, monthKeys [][]float64
	var sizes []float64
	for _, d := range docs {
		if d.Size != nil {
			sizeKeys = append(sizeKeys, []float64{math.Floor(float64(*d.Size)/1000) * 1000})
			sizes = append(sizes, float64(*d.Size))
		}
		scoreKeys = append(scoreKeys, []float64{math.Floor(d.Score/2.5) * 2.5})
		m := time.Date(d.Created.Year(), d.Created.Month(), 1, 0, 0, 0, 0, time.UTC)
		monthKeys = append(monthKeys, []float64{float64(m.UnixMilli())})
	}
	eqBuckets(t, "sizes", res.Aggs["sizes"], wantHistogram(sizeKeys, func(k float64) float64 { return k + 1000 }, search.NumKey))
	eqBuckets(t, "scores", res.Aggs["scores"], wantHistogram(scoreKeys, func(k float64) float64 { return k + 2.5 }, search.NumKey))
	eqBuckets(t, "per_month", res.Aggs["per_month"], wantHistogram(monthKeys, func(k float64) float64 {
		return float64(time.UnixMilli(int64(k)).UTC().AddDate(0, 1, 0).UnixMilli())
	}, search.DateKey))
	if r := res.Aggs["per_month"]; r != nil && len(r.Buckets) > 0 && r.Buckets[0].Key[7:] != "-01T00:00:00.000Z" {
		t.Errorf("month bucket key %q", r.Buckets[0].Key)
	}

	// ranges: sorted by from, default keys as OpenSearch prints them
	var lo, mid, hi int64
	for _, s := range sizes {
		switch {
		case s < 1000:
			lo++
		case s < 3000:
			mid++
		default:
			hi++
		}
	}
	eqBuckets(t, "size_bands", res.Aggs["size_bands"], []wantBucket{{"*-1000.0", lo}, {"1000.0-3000.0", mid}, {"big", hi}})
	if r := res.Aggs["size_bands"]; r != nil && len(r.Buckets) == 3 {
		if b := r.Buckets[1]; b.From == nil || *b.From != 1000 || b.To == nil || *b.To != 3000 {
			t.Errorf("size_bands[1] bounds %v %v", b.From, b.To)
		}
		if r.Buckets[0].From != nil {
			t.Errorf("open range has a from")
		}
	}
	cut := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	var before, after int64
	for _, d := range docs {
		if d.Created.Before(cut) {
			before++
		} else {
			after++
		}
	}
	eqBuckets(t, "eras", res.Aggs["eras"], []wantBucket{{"*-2021-01-01T00:00:00.000Z", before}, {"2021-01-01T00:00:00.000Z-*", after}})

	// metrics
	sum, mn, mx := 0.0, math.Inf(1), math.Inf(-1)
	for _, s := range sizes {
		sum += s
		mn, mx = math.Min(mn, s), math.Max(mx, s)
	}
	avg := sum / float64(len(sizes))
	eqValue(t, "size_min", res.Aggs["size_min"], &mn)
	eqValue(t, "size_max", res.Aggs["size_max"], &mx)
	eqValue(t, "size_avg", res.Aggs["size_avg"], &avg)
	eqValue(t, "size_sum", res.Aggs["size_sum"], &sum)
	if r := res.Aggs["size_stats"]; r == nil || r.Stats == nil {
		t.Errorf("size_stats: no stats")
	} else if st := r.Stats; st.Count != int64(len(sizes)) || !near(st.Min, mn) || !near(st.Max, mx) || !near(st.Avg, avg) || !near(st.Sum, sum) {
		t.Errorf("size_stats %+v, want count %d min %v max %v avg %v sum %v", *st, len(sizes), mn, mx, avg, sum)
	}
	first := math.Inf(1)
	cities, tags, distinctSizes := map[string]bool{}, map[string]bool{}, map[float64]bool{}
	for _, d := range docs {
		first = math.Min(first, float64(d.Created.UnixMilli()))
		cities[d.City] = true
		for _, tg := range d.Tags {
			tags[tg] = true
		}
	}
	for _, s := range sizes {
		distinctSizes[s] = true
	}
	eqValue(t, "first_created (epoch ms)", res.Aggs["first_created"], &first)
	nc, nt, ns := float64(len(cities)), float64(len(tags)), float64(len(distinctSizes))
	eqValue(t, "cities_n", res.Aggs["cities_n"], &nc)
	eqValue(t, "tags_n", res.Aggs["tags_n"], &nt)
	eqValue(t, "sizes_n", res.Aggs["sizes_n"], &ns)

	// aggregations over nothing
	res, err = ix.Query(ctx, &search.Spec{Query: search.MatchNone{}, Aggs: []search.Agg{
		search.MetricAgg("min", search.AggMin, "size"), search.MetricAgg("sum", search.AggSum, "size"),
		search.MetricAgg("stats", search.AggStats, "size"), search.HistogramAgg("h", "size", 10),
		search.TermsAgg("k", "kind", 5),
	}})
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	eqValue(t, "min of nothing", res.Aggs["min"], nil)
	eqValue(t, "sum of nothing", res.Aggs["sum"], &zero)
	if r := res.Aggs["stats"]; r == nil || r.Stats == nil || r.Stats.Count != 0 {
		t.Errorf("stats of nothing: %+v", r)
	}
	eqBuckets(t, "histogram of nothing", res.Aggs["h"], nil)
	eqBuckets(t, "terms of nothing", res.Aggs["k"], nil)

	// through a Searcher: on the first page, not on cursor pages
	sr, err := search.NewSearcher(ix, search.SearchConfig{
		Schema: search.Schema{Fields: map[string]string{"kind": "kind"}},
		Aggs:   []search.Agg{search.TermsAgg("cities", "city", 10)},
	})
	if err != nil {
		t.Fatal(err)
	}
	page1, err := sr.Search(ctx, &search.Request{Q: "kind:museum", Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	eqBuckets(t, "searcher cities", page1.Aggs["cities"], wantTerms(all, func(d PlaceDoc) []string {
		if d.Kind != "museum" {
			return nil
		}
		return []string{d.City}
	}, 10))
	next, err := sr.Search(ctx, &search.Request{Q: "kind:museum", Size: 3, After: page1.Next})
	if err != nil {
		t.Fatal(err)
	}
	if next.Aggs != nil {
		t.Errorf("a cursor page computed aggregations")
	}

	// misuse is ErrInvalid, on every driver
	for name, a := range map[string]search.Agg{
		"histogram on keyword":     search.HistogramAgg("x", "kind", 10),
		"date histogram on number": search.DateHistogramAgg("x", "size", search.Year),
		"bad calendar":             search.DateHistogramAgg("x", "created", "fortnight"),
		"unknown field":            search.TermsAgg("x", "nope", 3),
		"zero interval":            search.HistogramAgg("x", "size", 0),
		"sub of a metric":          {Name: "x", Kind: search.AggMin, Field: "size", Aggs: []search.Agg{search.TermsAgg("y", "kind", 1)}},
		"bad range bound":          search.RangeAgg("x", "size", search.RangeSpec{From: "abc"}),
	} {
		if _, err := ix.Query(ctx, &search.Spec{Aggs: []search.Agg{a}}); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}
