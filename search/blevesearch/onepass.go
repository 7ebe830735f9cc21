package blevesearch

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/facet"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/repokit/repokit/search"
)

// The one-pass search serves a search sorted by fields (not by score nor
// geo distance) with at most one pass over the documents matching the
// query, unscored. The multi-pass path it replaces ran one bleve search
// for the hits and one per facet with a filter (up to 4 passes over the
// matches), computed scores nobody reads, and loaded the _id of every match
// for the _id tie-breaker of the sort.
//
// Per shard (run): the documents each facet counts and the hits are
// collected as bitmaps per segment (docSets). When the query is everything,
// match queries or keyword terms, they are computed from the postings
// without visiting the matches (baseBitmaps); else the matches are walked
// once, each checked against the filters that are not bitmaps (searchers
// advanced in step). Filters that are keyword terms (facet selections)
// are intersected afterwards (filterBitmaps). Facets on fields with few
// terms are counted as intersections with the terms' postings
// (countTerms), others with bleve's own terms facet builders from doc
// values. The top From+Size hits of a sort by one number or date field
// come from a walk of the field's coarse-precision terms (bucketTopK),
// others from the doc values of every hit; an _id is loaded only when two
// documents tie on the other sort fields. Shards are merged as bleve's
// index alias merges them, so the results are those of the multi-pass
// path (TestOnePassEqualsMultiPass).

// onePassOK reports whether s can be served by the one-pass path: sorted by
// fields ending with the _id tie-breaker (as Index.Query appends it).
func onePassOK(s *search.Spec) bool {
	n := len(s.Sort)
	if n == 0 || s.Sort[n-1].Field != "_id" || s.Sort[n-1].Near != nil {
		return false
	}
	for _, f := range s.Sort[:n-1] {
		if f.Near != nil || f.Field == "_score" || f.Field == "_id" || f.Field == "" {
			return false
		}
	}
	return s.From+s.Size <= onePassMaxWindow
}

// onePassMaxWindow bounds the hits kept per shard (From+Size).
const onePassMaxWindow = 10000

// onePassFacet is one facet of a one-pass search: its bleve request and the
// index of its filter in the filter list (-1: none).
type onePassFacet struct {
	spec   search.FacetSpec
	req    *bleve.FacetRequest
	filter int
}

// onePassPlan is what every shard of a one-pass search runs.
type onePassPlan struct {
	base    query.Query
	filters []query.Query  // distinct filters: the post filter, the facets' own
	srcs    []search.Query // the filters before compilation
	// baseSrc is the query before compilation; wrapped: the compiled
	// query excludes tombstones
	baseSrc search.Query
	wrapped bool
	types   map[string]search.Field
	post    int // index of the post filter in filters (-1: none)
	facets  []onePassFacet
	sort    bsearch.SortOrder // without the _id tie-breaker
	idDesc  bool
	k       int         // hits kept: From+Size
	after   *onePassHit // search_after position, nil without one
	multi   bool        // several shards: facets keep shardFacetSize terms
	// bucketField: the sort is by this number or date field alone; its
	// top hits are found with a bucket walk (see bucketTopK)
	bucketField string
}

// onePassHit is a kept hit: its encoded sort values, internal id and (once
// loaded) external id.
type onePassHit struct {
	sort []string
	iid  index.IndexInternalID
	id   string
	// hasID: id is loaded (after: always)
	hasID bool
}

func (d *Driver) newOnePassPlan(t *target, c *compiler, base query.Query, s *search.Spec) (*onePassPlan, error) {
	p := &onePassPlan{base: base, baseSrc: s.Query, wrapped: t.tombs.wrap, post: -1, types: t.fields, multi: t.multi || len(t.leaves) > 1, k: s.From + s.Size}
	keys := map[string]int{}
	addFilter := func(q search.Query) (int, error) {
		key := fmt.Sprintf("%#v", q)
		if i, ok := keys[key]; ok {
			return i, nil
		}
		bq, err := c.compile(q)
		if err != nil {
			return 0, err
		}
		keys[key] = len(p.filters)
		p.filters = append(p.filters, bq)
		p.srcs = append(p.srcs, q)
		return len(p.filters) - 1, nil
	}
	if s.PostFilter != nil {
		i, err := addFilter(s.PostFilter)
		if err != nil {
			return nil, err
		}
		p.post = i
	}
	for _, f := range s.Facets {
		of := onePassFacet{spec: f, req: facetRequest(t.fields, f), filter: -1}
		if p.multi && of.req.Size < shardFacetSize {
			of.req.Size = shardFacetSize
		}
		if f.Filter != nil {
			i, err := addFilter(f.Filter)
			if err != nil {
				return nil, err
			}
			of.filter = i
		}
		p.facets = append(p.facets, of)
	}
	n := len(s.Sort)
	p.sort = bsearch.ParseSortOrderStrings(sortOrder(s.Sort[:n-1]))
	p.idDesc = s.Sort[n-1].Desc
	if sf, ok := bucketSortField(p, func(f string) bool {
		ty := t.fields[f].Type
		return ty == search.Number || ty == search.Date
	}); ok && p.k > 0 {
		p.bucketField = sf.Field
	}
	if len(s.After) > 0 {
		after, err := decodeAfter(s.After, n)
		if err != nil {
			return nil, err
		}
		h := &onePassHit{id: after[n-1], hasID: true}
		for i, ss := range p.sort {
			h.sort = append(h.sort, encodeAfter(ss, after[i]))
		}
		p.after = h
	}
	return p, nil
}

// encodeAfter is bleve's encoding of a search_after value (its collector
// compares encoded sort values).
func encodeAfter(ss bsearch.SearchSort, after string) string {
	sf, ok := ss.(*bsearch.SortField)
	if !ok {
		return after
	}
	switch sf.Type {
	case bsearch.SortFieldAsNumber:
		f64, _ := strconv.ParseFloat(after, 64)
		return string(numeric.MustNewPrefixCodedInt64(numeric.Float64ToInt64(f64), 0))
	case bsearch.SortFieldAsDate:
		t, _ := time.Parse(time.RFC3339Nano, after)
		return string(numeric.MustNewPrefixCodedInt64(t.UnixNano(), 0))
	}
	return after
}

// onePassShard is the result of one shard.
type onePassShard struct {
	total  uint64
	hits   []*onePassHit // best first, ids loaded
	facets bsearch.FacetResults
}

// cmp orders hits as bleve's sort does: the sort fields (encoded values
// compared as strings, reversed when descending), then the _id, loaded
// only on a tie through load.
func (p *onePassPlan) cmp(a, b *onePassHit, load func(*onePassHit) error) (int, error) {
	for i, ss := range p.sort {
		c := 0
		switch {
		case a.sort[i] < b.sort[i]:
			c = -1
		case a.sort[i] > b.sort[i]:
			c = 1
		}
		if c != 0 {
			if ss.Descending() {
				c = -c
			}
			return c, nil
		}
	}
	for _, h := range []*onePassHit{a, b} {
		if !h.hasID {
			if err := load(h); err != nil {
				return 0, err
			}
		}
	}
	c := 0
	switch {
	case a.id < b.id:
		c = -1
	case a.id > b.id:
		c = 1
	}
	if p.idDesc {
		c = -c
	}
	return c, nil
}

// filterCursor walks the matches of a filter in step with the query's.
type filterCursor struct {
	s    bsearch.Searcher
	ctx  *bsearch.SearchContext
	cur  *bsearch.DocumentMatch
	done bool
}

func (f *filterCursor) matches(id index.IndexInternalID) (bool, error) {
	if f.done {
		return false, nil
	}
	if f.cur != nil {
		switch c := f.cur.IndexInternalID.Compare(id); {
		case c == 0:
			return true, nil
		case c > 0:
			return false, nil
		}
		f.ctx.DocumentMatchPool.Put(f.cur)
		f.cur = nil
	}
	dm, err := f.s.Advance(f.ctx, id)
	if err != nil {
		return false, err
	}
	if dm == nil {
		f.done = true
		return false, nil
	}
	f.cur = dm
	return dm.IndexInternalID.Equals(id), nil
}

// run runs the plan on one bleve index (a shard).
func (p *onePassPlan) run(ctx context.Context, idx bleve.Index) (_ *onePassShard, err error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := idx.Mapping()
	opts := bsearch.SearcherOptions{Score: "none"}
	bs, err := p.base.Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	defer bs.Close()
	fcs := make([]*filterCursor, len(p.filters))
	for i, fq := range p.filters {
		fs, err := fq.Searcher(ctx, r, m, opts)
		if err != nil {
			return nil, err
		}
		defer fs.Close()
		fcs[i] = &filterCursor{s: fs, ctx: &bsearch.SearchContext{
			DocumentMatchPool: bsearch.NewDocumentMatchPool(fs.DocumentMatchPoolSize()+1, 0), IndexReader: r}}
	}
	// facets on fields with few terms are counted with bitmaps (see
	// docSets), the others from doc values
	sn, _ := r.(*scorch.IndexSnapshot)
	var ds *docSets
	bitSet := make([]int, len(p.facets)) // -1: doc values
	var setFilter []int                  // filter of each set (-1: none)
	builders := make([]*facet.TermsFacetBuilder, len(p.facets))
	var dvFields []string
	dvByField := map[string][]int{}
	for i, f := range p.facets {
		bitSet[i] = -1
		if sn != nil && f.req.TermPrefix == "" && bitFacetOK(sn, f.req.Field) {
			bitSet[i] = slices.Index(setFilter, f.filter)
			if bitSet[i] < 0 {
				bitSet[i] = len(setFilter)
				setFilter = append(setFilter, f.filter)
			}
			continue
		}
		b := facet.NewTermsFacetBuilder(f.req.Field, f.req.Size)
		if f.req.TermPrefix != "" {
			b.SetPrefixFilter(f.req.TermPrefix)
		}
		builders[i] = b
		if len(dvByField[f.req.Field]) == 0 {
			dvFields = append(dvFields, f.req.Field)
		}
		dvByField[f.req.Field] = append(dvByField[f.req.Field], i)
	}
	hitSet := -1 // the hits' set, for the bucket walk
	if sn != nil && p.bucketField != "" {
		if hitSet = slices.Index(setFilter, p.post); hitSet < 0 {
			hitSet = len(setFilter)
			setFilter = append(setFilter, p.post)
		}
	}
	// sets whose filter is a bitmap (terms of keyword fields) are derived
	// after the pass from the set of all matches
	var filterBM [][]*roaring.Bitmap
	derived := make([]bool, len(setFilter))
	if sn != nil {
		filterBM = make([][]*roaring.Bitmap, len(p.filters))
		for j, fi := range setFilter {
			if fi < 0 {
				continue
			}
			if filterBM[fi] == nil {
				if filterBM[fi], err = filterBitmaps(sn, p.srcs[fi], p.types); err != nil {
					return nil, err
				}
			}
			derived[j] = filterBM[fi] != nil
		}
	}
	baseSet := slices.Index(setFilter, -1)
	if slices.Contains(derived, true) && baseSet < 0 {
		baseSet = len(setFilter)
		setFilter = append(setFilter, -1)
		derived = append(derived, false)
	}
	// the filters checked match by match
	needed := make([]bool, len(p.filters))
	for j, fi := range setFilter {
		if fi >= 0 && !derived[j] {
			needed[fi] = true
		}
	}
	for i, f := range p.facets {
		if builders[i] != nil && f.filter >= 0 {
			needed[f.filter] = true
		}
	}
	if p.post >= 0 && !(hitSet >= 0 && derived[hitSet]) {
		needed[p.post] = true
	}
	// without filters checked match by match nor doc-values facets, and
	// with a query that is itself a bitmap (everything, or terms of
	// keyword fields: a browse of the newest records), the matches are not
	// walked at all
	var baseBM []*roaring.Bitmap
	if sn != nil && !slices.Contains(needed, true) && (p.k == 0 || hitSet >= 0) &&
		!slices.ContainsFunc(builders, func(b *facet.TermsFacetBuilder) bool { return b != nil }) {
		if baseBM, err = baseBitmaps(sn, p.baseSrc, p.types, m, p.wrapped); err != nil {
			return nil, err
		}
		if baseBM != nil && baseSet < 0 {
			baseSet = len(setFilter)
			setFilter = append(setFilter, -1)
			derived = append(derived, false)
		}
	}
	if len(setFilter) > 0 {
		ds = newDocSets(sn, len(setFilter))
	}
	so := p.sort.Copy()
	var sortFields []string
	for _, ss := range so {
		if sf, ok := ss.(*bsearch.SortField); ok && !slices.Contains(sortFields, sf.Field) {
			sortFields = append(sortFields, sf.Field)
		}
	}
	var sortDV, facetDV index.DocValueReader
	if len(sortFields) > 0 {
		if sortDV, err = r.DocValueReader(sortFields); err != nil {
			return nil, err
		}
	}
	if len(dvFields) > 0 {
		if facetDV, err = r.DocValueReader(dvFields); err != nil {
			return nil, err
		}
	}
	pass := make([]bool, len(p.filters))
	active := make([]bool, len(p.facets))
	visitSort := func(field string, term []byte) { so.UpdateVisitor(field, term) }
	visitFacet := func(field string, term []byte) {
		for _, i := range dvByField[field] {
			if active[i] {
				builders[i].UpdateVisitor(term)
			}
		}
	}
	load := func(h *onePassHit) error {
		id, err := r.ExternalID(h.iid)
		if err != nil {
			return err
		}
		h.id, h.hasID = id, true
		return nil
	}
	out := &onePassShard{}
	heap := &hitHeap{p: p, load: load}
	sctx := &bsearch.SearchContext{
		DocumentMatchPool: bsearch.NewDocumentMatchPool(bs.DocumentMatchPoolSize()+1, len(p.sort)),
		IndexReader:       r,
	}
	cand := &onePassHit{}
	if baseBM != nil {
		for j, fi := range setFilter {
			if fi < 0 {
				copy(ds.sets[j], baseBM)
			}
		}
		if p.post < 0 {
			for _, b := range baseBM {
				if b != nil {
					out.total += b.GetCardinality()
				}
			}
		}
	}
	for n := 0; baseBM == nil; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		dm, err := bs.Next(sctx)
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		for i, fc := range fcs {
			if needed[i] {
				if pass[i], err = fc.matches(dm.IndexInternalID); err != nil {
					return nil, err
				}
			}
		}
		if ds != nil {
			local := ds.seek(dm.IndexInternalID)
			for j, fi := range setFilter {
				if !derived[j] && (fi < 0 || pass[fi]) {
					ds.add(j, local)
				}
			}
		}
		if facetDV != nil {
			need := false
			for i, b := range builders {
				active[i] = b != nil && (p.facets[i].filter < 0 || pass[p.facets[i].filter])
				need = need || active[i]
			}
			if need {
				for i, b := range builders {
					if active[i] {
						b.StartDoc()
					}
				}
				if err := facetDV.VisitDocValues(dm.IndexInternalID, visitFacet); err != nil {
					return nil, err
				}
				for i, b := range builders {
					if active[i] {
						b.EndDoc()
					}
				}
			}
		}
		if p.post < 0 || (needed[p.post] && pass[p.post]) {
			out.total++
			if p.k == 0 || hitSet >= 0 {
				sctx.DocumentMatchPool.Put(dm)
				continue
			}
			if sortDV != nil {
				if err := sortDV.VisitDocValues(dm.IndexInternalID, visitSort); err != nil {
					return nil, err
				}
			}
			cand.sort = cand.sort[:0]
			for _, ss := range so {
				cand.sort = append(cand.sort, ss.Value(dm))
			}
			cand.iid, cand.id, cand.hasID = dm.IndexInternalID, "", false
			keep, err := p.consider(heap, cand)
			if err != nil {
				return nil, err
			}
			if keep {
				cand = &onePassHit{}
			}
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	if ds != nil {
		ds.flush()
		for j, fi := range setFilter {
			if !derived[j] {
				continue
			}
			for si, b := range ds.sets[baseSet] {
				if b != nil && filterBM[fi][si] != nil {
					ds.sets[j][si] = roaring.And(b, filterBM[fi][si])
				}
			}
		}
		if p.post >= 0 && !needed[p.post] {
			for _, b := range ds.sets[hitSet] {
				if b != nil {
					out.total += b.GetCardinality()
				}
			}
		}
	}
	if hitSet >= 0 {
		idbuf := make([]byte, 8)
		dummy := &bsearch.DocumentMatch{}
		bt := &bucketTopK{p: p, ds: ds, set: hitSet, field: p.bucketField, desc: so[0].Descending(), heap: heap,
			eval: func(g uint64) error {
				iid := internalID(idbuf, g)
				if err := sortDV.VisitDocValues(iid, visitSort); err != nil {
					return err
				}
				cand.sort = cand.sort[:0]
				for _, ss := range so {
					cand.sort = append(cand.sort, ss.Value(dummy))
				}
				cand.iid, cand.id, cand.hasID = iid, "", false
				keep, err := p.consider(heap, cand)
				if keep {
					cand = &onePassHit{}
				}
				return err
			}}
		if err := bt.run(); err != nil {
			return nil, err
		}
	}
	// best first, ids loaded (the shards' hits are merged by id on ties)
	hits := heap.hs
	for _, h := range hits {
		if !h.hasID {
			if err := load(h); err != nil {
				return nil, err
			}
		}
	}
	if err := sortHits(p, hits, load); err != nil {
		return nil, err
	}
	out.hits = hits
	if len(p.facets) > 0 {
		out.facets = bsearch.FacetResults{}
		for i, f := range p.facets {
			if b := builders[i]; b != nil {
				out.facets[f.spec.Name] = b.Result()
				continue
			}
			fr, err := ds.countTerms(bitSet[i], f.req.Field, f.req.Size)
			if err != nil {
				return nil, err
			}
			out.facets[f.spec.Name] = fr
		}
	}
	return out, nil
}

// consider adds the candidate to the kept hits when it is after the
// search_after position and among the best k; it reports whether the heap
// kept it (the caller then must not reuse it).
func (p *onePassPlan) consider(h *hitHeap, c *onePassHit) (bool, error) {
	if p.k == 0 {
		return false, nil
	}
	if p.after != nil {
		cm, err := p.cmp(c, p.after, h.load)
		if err != nil {
			return false, err
		}
		if cm <= 0 {
			return false, nil
		}
	}
	if len(h.hs) == p.k {
		cm, err := p.cmp(c, h.hs[0], h.load)
		if err != nil {
			return false, err
		}
		if cm >= 0 {
			return false, nil
		}
	}
	c.iid = append(index.IndexInternalID(nil), c.iid...)
	c.sort = append([]string(nil), c.sort...)
	return true, h.push(c)
}

// hitHeap keeps the best k hits, the worst at the root.
type hitHeap struct {
	p    *onePassPlan
	load func(*onePassHit) error
	hs   []*onePassHit
	err  error
}

func (h *hitHeap) less(i, j int) bool { // i worse than j
	c, err := h.p.cmp(h.hs[i], h.hs[j], h.load)
	if err != nil && h.err == nil {
		h.err = err
	}
	return c > 0
}

func (h *hitHeap) push(c *onePassHit) error {
	if len(h.hs) == h.p.k {
		h.hs[0] = c
		h.down(0)
	} else {
		h.hs = append(h.hs, c)
		for i := len(h.hs) - 1; i > 0; {
			parent := (i - 1) / 2
			if !h.less(i, parent) {
				break
			}
			h.hs[i], h.hs[parent] = h.hs[parent], h.hs[i]
			i = parent
		}
	}
	return h.err
}

func (h *hitHeap) down(i int) {
	n := len(h.hs)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && h.less(r, l) {
			w = r
		}
		if !h.less(w, i) {
			return
		}
		h.hs[i], h.hs[w] = h.hs[w], h.hs[i]
		i = w
	}
}

func sortHits(p *onePassPlan, hs []*onePassHit, load func(*onePassHit) error) error {
	var err error
	sort.SliceStable(hs, func(i, j int) bool {
		c, e := p.cmp(hs[i], hs[j], load)
		if e != nil && err == nil {
			err = e
		}
		return c < 0
	})
	return err
}

// searchOnePass runs the one-pass search of s on t's shards (in parallel
// when there are several) and fetches the stored fields of the hits.
func (d *Driver) searchOnePass(ctx context.Context, t *target, c *compiler, base query.Query, s *search.Spec) (*search.Results, error) {
	p, err := d.newOnePassPlan(t, c, base, s)
	if err != nil {
		return nil, err
	}
	shards := make([]*onePassShard, len(t.leaves))
	errs := make([]error, len(t.leaves))
	if len(t.leaves) == 1 {
		shards[0], errs[0] = p.run(ctx, t.leaves[0])
	} else {
		var wg sync.WaitGroup
		for i, idx := range t.leaves {
			wg.Add(1)
			go func() {
				defer wg.Done()
				shards[i], errs[i] = p.run(ctx, idx)
			}()
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, searchErr(err)
		}
	}
	out := &search.Results{Facets: map[string]*search.FacetResult{}}
	var hits []*onePassHit
	var facets bsearch.FacetResults
	for _, sh := range shards {
		out.Total += int64(sh.total)
		hits = append(hits, sh.hits...)
		if facets == nil {
			facets = sh.facets
		} else {
			facets.Merge(sh.facets)
		}
	}
	noLoad := func(*onePassHit) error { return nil } // ids are loaded
	if len(shards) > 1 {
		if err := sortHits(p, hits, noLoad); err != nil {
			return nil, err
		}
		for _, f := range p.facets {
			facets.Fixup(f.spec.Name, f.req.Size)
		}
	}
	if s.From >= len(hits) {
		hits = nil
	} else {
		hits = hits[s.From:min(len(hits), s.From+s.Size)]
	}
	for _, f := range p.facets {
		out.Facets[f.spec.Name] = buckets(f.spec, t.fields[f.spec.Field], facets[f.spec.Name])
	}
	if len(hits) == 0 {
		return out, nil
	}
	// the stored fields and decoded sort values of the hits: a search of
	// their ids, in the same order (a hit deleted since the pass is
	// left out: the fetch excludes tombstones as the pass did, and a
	// search that did not exclude them is run again if a tombstone was
	// written meanwhile)
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	req := bleve.NewSearchRequestOptions(t.tombs.exclude(bleve.NewDocIDQuery(ids)), len(ids), 0, false)
	req.SortBy(sortOrder(s.Sort))
	req.Fields = []string{SourceField, RevisionField}
	req.Score = bleve.ScoreNone
	res, err := t.run(ctx, req)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*bsearch.DocumentMatch, len(res.Hits))
	for _, h := range res.Hits {
		byID[h.ID] = h
	}
	for _, id := range ids {
		if h, ok := byID[id]; ok {
			out.Hits = append(out.Hits, toHit(h, s))
		}
	}
	return out, nil
}
