package blevesearch

import (
	"context"
	"fmt"
	"math"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/geo"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/repokit/repokit/search"
)

// searchWithAggs runs the search without its aggregations, then computes
// them exactly: one pass over the documents matching the query reads the
// doc values of the aggregated fields (a bleve facet builder per field,
// no stored fields loaded) and [search.EvalAggs] aggregates them.
//
// A request for aggregations only (no hits, facets or post filter) is
// served by that one pass, its total being the number of matches.
func (d *Driver) searchWithAggs(ctx context.Context, name string, s *search.Spec) (*search.Results, error) {
	if s.Size == 0 && len(s.Facets) == 0 && s.PostFilter == nil {
		aggs, n, err := d.aggregate(ctx, name, s.Query, s.Aggs)
		if err != nil {
			return nil, err
		}
		return &search.Results{Total: int64(n), Facets: map[string]*search.FacetResult{}, Aggs: aggs}, nil
	}
	s2 := *s
	s2.Aggs = nil
	res, err := d.Search(ctx, name, &s2)
	if err != nil {
		return nil, err
	}
	if res.Aggs, _, err = d.aggregate(ctx, name, s.Query, s.Aggs); err != nil {
		return nil, err
	}
	return res, nil
}

// parts returns the concrete indices behind name, read-locked until release.
func (d *Driver) parts(name string) (bs []*bidx, release func(), err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, nil, search.ErrClosed
	}
	cs, err := d.resolveLocked(name)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cs {
		b, err := d.getLocked(c)
		if err != nil {
			return nil, nil, err
		}
		bs = append(bs, b)
	}
	for _, b := range bs {
		b.rw.RLock()
	}
	return bs, func() {
		for _, b := range bs {
			b.rw.RUnlock()
		}
	}, nil
}

// aggregate computes aggs over the documents matching q; n is their number.
func (d *Driver) aggregate(ctx context.Context, name string, q search.Query, aggs []search.Agg) (_ map[string]*search.AggResult, n int, _ error) {
	bs, release, err := d.parts(name)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	var docs []*search.AggDoc
	var fields map[string]search.Field
	for _, b := range bs {
		b.mu.Lock()
		fields = b.fields
		b.mu.Unlock()
		bq, err := newCompiler(fields).compile(q)
		if err != nil {
			return nil, 0, err
		}
		for _, sh := range b.shards { // read under b.rw (held since parts)
			ds, err := collectValues(ctx, sh.idx, notTombstone(bq), fields, search.AggFields(aggs))
			if err != nil {
				return nil, 0, err
			}
			docs = append(docs, ds...)
		}
	}
	return search.EvalAggs(aggs, fields, docs), len(docs), nil
}

func collectValues(ctx context.Context, idx bleve.Index, bq query.Query, fields map[string]search.Field, names []string) ([]*search.AggDoc, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("blevesearch: aggregations: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("blevesearch: aggregations: %w", err)
	}
	defer r.Close()
	sr, err := bq.Searcher(ctx, r, idx.Mapping(), bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, fmt.Errorf("blevesearch: aggregations: %w", err)
	}
	defer sr.Close()
	col := &valueCollector{}
	fb := bsearch.NewFacetsBuilder(r)
	for _, n := range names {
		fb.Add(n, &fieldValues{col: col, field: n, typ: fields[n].Type})
	}
	coll := collector.NewTopNCollector(0, 0, bsearch.SortOrder{&bsearch.SortScore{Desc: true}})
	coll.SetFacetsBuilder(fb)
	if err := coll.Collect(ctx, sr, r); err != nil {
		return nil, fmt.Errorf("blevesearch: aggregations: %w", err)
	}
	return col.docs, nil
}

// valueCollector accumulates one AggDoc per matching document; the facet
// builders of all fields see StartDoc in the same order, the first one
// appends the row.
type valueCollector struct {
	docs    []*search.AggDoc
	slab    []search.AggDoc // allocated 256 at a time
	started bool
}

// fieldValues is a bleve FacetBuilder that decodes the doc values of one
// field into the current AggDoc.
type fieldValues struct {
	col   *valueCollector
	field string
	typ   search.FieldType
}

func (f *fieldValues) StartDoc() {
	if !f.col.started {
		f.col.started = true
		if len(f.col.slab) == 0 {
			f.col.slab = make([]search.AggDoc, 256)
		}
		f.col.docs = append(f.col.docs, &f.col.slab[0])
		f.col.slab = f.col.slab[1:]
	}
}

func (f *fieldValues) EndDoc() { f.col.started = false }

func (f *fieldValues) cur() *search.AggDoc { return f.col.docs[len(f.col.docs)-1] }

func (f *fieldValues) UpdateVisitor(term []byte) {
	d := f.cur()
	addNum := func(v float64) {
		if d.Nums == nil {
			d.Nums = map[string][]float64{}
		}
		d.Nums[f.field] = append(d.Nums[f.field], v)
	}
	switch f.typ {
	case search.Keyword:
		if d.Strs == nil {
			d.Strs = map[string][]string{}
		}
		d.Strs[f.field] = append(d.Strs[f.field], string(term))
	case search.Boolean:
		switch string(term) {
		case "T":
			addNum(1)
		case "F":
			addNum(0)
		}
	case search.Number, search.Date, search.GeoPoint:
		pc := numeric.PrefixCoded(term)
		if shift, err := pc.Shift(); err != nil || shift != 0 {
			return
		}
		i, err := pc.Int64()
		if err != nil {
			return
		}
		switch f.typ {
		case search.Number:
			addNum(numeric.Int64ToFloat64(i))
		case search.Date:
			addNum(math.Floor(float64(i) / 1e6)) // nanoseconds → epoch ms
		default:
			if d.Geos == nil {
				d.Geos = map[string][]search.Point{}
			}
			h := uint64(i)
			d.Geos[f.field] = append(d.Geos[f.field], search.Point{Lat: geo.MortonUnhashLat(h), Lon: geo.MortonUnhashLon(h)})
		}
	}
}

func (f *fieldValues) Result() *bsearch.FacetResult { return nil }
func (f *fieldValues) Field() string                { return f.field }
func (f *fieldValues) Size() int                    { return 0 }
