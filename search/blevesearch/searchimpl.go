package blevesearch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/repokit/repokit/search"
)

// target is what one search reads: a bleve.Index (the index itself, its
// shards through a bleve IndexAlias, or an alias over the concrete indices
// of an alias), the mapped fields (of the first concrete index) and the
// tombstone state. The indices are read-locked until release is called, so
// that deleting an index (after a reindex switched the alias away) or
// reopening it (mapping update) waits for the searches in flight: no
// search fails during a reindex.
type target struct {
	idx    bleve.Index
	fields map[string]search.Field
	tombs  tombView
	multi  bool // more than one bleve index: facets are merged
	// leaves are the bleve indices (shards) behind idx
	leaves  []bleve.Index
	release func()
}

func (d *Driver) target(name string, wrap bool) (*target, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, search.ErrClosed
	}
	cs, err := d.resolveLocked(name)
	if err != nil {
		return nil, err
	}
	bs := make([]*bidx, 0, len(cs))
	for _, c := range cs {
		b, err := d.getLocked(c)
		if err != nil {
			return nil, err
		}
		bs = append(bs, b)
	}
	t := &target{fields: bs[0].fields}
	is := make([]bleve.Index, len(bs))
	for i, b := range bs {
		b.rw.RLock()
		is[i] = b.idx // read under d.mu and b.rw: PutMapping swaps it holding both
		t.multi = t.multi || len(b.shards) > 1
		for _, sh := range b.shards {
			t.leaves = append(t.leaves, sh.idx)
		}
	}
	t.release = func() {
		for _, b := range bs {
			b.rw.RUnlock()
		}
	}
	t.tombs = viewOf(bs, wrap)
	if len(is) == 1 {
		t.idx = is[0]
	} else {
		t.idx, t.multi = bleve.NewIndexAlias(is...), true
	}
	return t, nil
}

// shardFacetSize is the number of terms each shard of a sharded index
// returns for a facet, so that the merged counts are exact for fields with
// up to that many distinct values (the merge keeps the top Size).
const shardFacetSize = 10000

// run searches t, returning the error of any shard (bleve's alias reports
// them in the status only).
func (t *target) run(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	if t.multi {
		for _, fr := range req.Facets {
			if fr.Size < shardFacetSize {
				fr.Size = shardFacetSize
			}
		}
	}
	res, err := t.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, searchErr(err)
	}
	if res.Status != nil && len(res.Status.Errors) > 0 {
		for _, e := range res.Status.Errors {
			return nil, searchErr(e)
		}
	}
	return res, nil
}

// buckets converts a facet result, keeping the top f.Size buckets.
func buckets(f search.FacetSpec, fl search.Field, fr *bsearch.FacetResult) *search.FacetResult {
	out := bucketsOf(fl, fr)
	if f.Size > 0 && len(out.Buckets) > f.Size {
		out.Buckets = out.Buckets[:f.Size]
	}
	return out
}

// Search implements search.Driver. The post filter restricts hits only; each
// facet is computed by its own request over the query and the facet's own
// filter (the other facets' selections), hierarchical facets by one request
// per parent bucket — the post_filter semantics of OpenSearch emulated.
func (d *Driver) Search(ctx context.Context, name string, s *search.Spec) (*search.Results, error) {
	if s.PIT != "" {
		return nil, fmt.Errorf("%w: point-in-time searches are not supported by the bleve driver", search.ErrUnsupported)
	}
	if len(s.Aggs) > 0 {
		return d.searchWithAggs(ctx, name, s)
	}
	res, raced, err := d.search(ctx, name, s, false)
	if raced {
		// a batch adding tombstones ran while the search skipped their
		// exclusion: search again excluding them
		res, _, err = d.search(ctx, name, s, true)
	}
	return res, err
}

func (d *Driver) search(ctx context.Context, name string, s *search.Spec, wrap bool) (_ *search.Results, raced bool, _ error) {
	t, err := d.target(name, wrap)
	if err != nil {
		return nil, false, err
	}
	defer t.release()
	out, err := d.searchTarget(ctx, t, s)
	if err == nil && t.tombs.raced() {
		return nil, true, nil
	}
	return out, false, err
}

func (d *Driver) searchTarget(ctx context.Context, t *target, s *search.Spec) (*search.Results, error) {
	fields := t.fields
	for _, f := range s.Facets {
		if err := checkFacetField(fields, f); err != nil {
			return nil, err
		}
	}
	c := newCompiler(fields)
	compile := c.compile
	base, err := compile(s.Query)
	if err != nil {
		return nil, err
	}
	base = t.tombs.exclude(base)
	var out *search.Results
	if onePassOK(s) && !d.multiPass {
		// the same query, unscored: see andMatchQuery
		nc := &compiler{fields: fields, noScore: true}
		b1, err := nc.compile(s.Query)
		if err != nil {
			return nil, err
		}
		if out, err = d.searchOnePass(ctx, t, nc, t.tombs.exclude(b1), s); err != nil {
			return nil, err
		}
	} else if out, err = d.searchMultiPass(ctx, t, c, base, s); err != nil {
		return nil, err
	}
	// hierarchical facets: one request per parent bucket
	for _, f := range s.Facets {
		if f.Sub == nil {
			continue
		}
		fr := out.Facets[f.Name]
		if fr == nil {
			continue
		}
		scope := base
		if f.Filter != nil {
			fq, err := compile(f.Filter)
			if err != nil {
				return nil, err
			}
			scope = bleve.NewConjunctionQuery(base, fq)
		}
		for i := range fr.Buckets {
			tq, err := compile(bucketFilter(fields[f.Field], f.Field, fr.Buckets[i].Key))
			if err != nil {
				return nil, err
			}
			sub := *f.Sub
			sub.Name = "sub"
			tmp := &search.Results{Facets: map[string]*search.FacetResult{}}
			if err := d.facetRequest(ctx, t, bleve.NewConjunctionQuery(scope, tq), []search.FacetSpec{sub}, tmp); err != nil {
				return nil, err
			}
			fr.Buckets[i].Sub = tmp.Facets["sub"]
		}
	}
	return out, nil
}

// searchMultiPass runs s with one bleve search for the hits (and the facets
// without a filter when there is no post filter) and one per other facet
// (see searchOnePass for the one-pass path).
func (d *Driver) searchMultiPass(ctx context.Context, t *target, c *compiler, base query.Query, s *search.Spec) (*search.Results, error) {
	fields := t.fields
	compile := c.compile
	hitsQ := base
	if s.PostFilter != nil {
		pf, err := compile(s.PostFilter)
		if err != nil {
			return nil, err
		}
		hitsQ = bleve.NewConjunctionQuery(base, pf)
	}
	req := bleve.NewSearchRequestOptions(hitsQ, s.Size, s.From, false)
	req.SortBy(sortOrder(s.Sort))
	geoSort(req, s.Sort)
	req.Fields = []string{SourceField, RevisionField}
	if len(s.After) > 0 {
		after, err := decodeAfter(s.After, len(req.Sort))
		if err != nil {
			return nil, err
		}
		req.SearchAfter = after
		req.From = 0
	}
	// facets without their own filter ride on an unfiltered request over base
	var plain []search.FacetSpec
	var own []search.FacetSpec
	for _, f := range s.Facets {
		if f.Filter == nil {
			plain = append(plain, f)
		} else {
			own = append(own, f)
		}
	}
	if s.PostFilter == nil {
		for _, f := range plain {
			if req.Facets == nil {
				req.Facets = bleve.FacetsRequest{}
			}
			req.AddFacet(f.Name, facetRequest(fields, f))
		}
		plain = nil
	}
	res, err := t.run(ctx, req)
	if err != nil {
		return nil, err
	}
	out := &search.Results{Total: int64(res.Total), Facets: map[string]*search.FacetResult{}}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, toHit(h, s))
	}
	for _, f := range s.Facets {
		if fr, ok := res.Facets[f.Name]; ok && s.PostFilter == nil {
			out.Facets[f.Name] = buckets(f, fields[f.Field], fr)
		}
	}
	if len(plain) > 0 {
		if err := d.facetRequest(ctx, t, base, plain, out); err != nil {
			return nil, err
		}
	}
	for _, f := range own {
		fq, err := compile(f.Filter)
		if err != nil {
			return nil, err
		}
		if err := d.facetRequest(ctx, t, bleve.NewConjunctionQuery(base, fq), []search.FacetSpec{f}, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeAfter decodes the search_after values of a search sorted by n
// fields.
func decodeAfter(vs []json.RawMessage, n int) ([]string, error) {
	after := make([]string, len(vs))
	for i, a := range vs {
		if err := json.Unmarshal(a, &after[i]); err != nil {
			return nil, fmt.Errorf("%w: search_after value %s", search.ErrBadQuery, a)
		}
	}
	if len(after) != n {
		return nil, fmt.Errorf("%w: search_after has %d values for %d sort fields", search.ErrBadQuery, len(after), n)
	}
	return after, nil
}

// toHit converts a bleve hit of a search for s.
func toHit(h *bsearch.DocumentMatch, s *search.Spec) search.Hit {
	hit := search.Hit{ID: h.ID, Score: h.Score}
	if src, ok := h.Fields[SourceField].(string); ok {
		hit.Source = json.RawMessage(src)
	}
	if rev, ok := h.Fields[RevisionField].(float64); ok {
		hit.Revision = int64(rev)
	}
	// bleve's search_after takes decoded values (it re-encodes numbers
	// and dates) and the score as a number
	for i, sv := range h.DecodedSort {
		if i < len(s.Sort) && s.Sort[i].Field == "_score" {
			sv = strconv.FormatFloat(h.Score, 'g', -1, 64)
		}
		b, _ := json.Marshal(sv)
		hit.Sort = append(hit.Sort, b)
	}
	return hit
}

func (d *Driver) facetRequest(ctx context.Context, t *target, q query.Query, fs []search.FacetSpec, out *search.Results) error {
	fields := t.fields
	req := bleve.NewSearchRequestOptions(q, 0, 0, false)
	for _, f := range fs {
		req.AddFacet(f.Name, facetRequest(fields, f))
	}
	res, err := t.run(ctx, req)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if fr, ok := res.Facets[f.Name]; ok {
			out.Facets[f.Name] = buckets(f, fields[f.Field], fr)
		} else {
			out.Facets[f.Name] = &search.FacetResult{}
		}
	}
	return nil
}

// Refs implements search.Driver: live documents by id. A search_after on
// _id visits every document of the index for each page (bleve filters
// search_after in the collector), which makes walking an index quadratic;
// instead the candidate ids come from the _id term dictionaries (sorted,
// read from after onwards) and one search by those ids keeps the live,
// non-tombstone ones with their revisions. Each page costs O(n), whatever
// the size of the index.
func (d *Driver) Refs(ctx context.Context, name string, after string, n int) ([]search.DocRef, error) {
	bs, release, err := d.parts(name)
	if err != nil {
		return nil, err
	}
	defer release()
	var idxs []bleve.Index
	for _, b := range bs {
		for _, sh := range b.shards { // read under b.rw (held since parts)
			idxs = append(idxs, sh.idx)
		}
	}
	var idx bleve.Index = idxs[0]
	if len(idxs) > 1 {
		idx = bleve.NewIndexAlias(idxs...)
	}
	out := make([]search.DocRef, 0, n)
	for len(out) < n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ids, more, err := nextIDs(idxs, after, n-len(out))
		if err != nil {
			return nil, fmt.Errorf("blevesearch: refs: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		req := bleve.NewSearchRequestOptions(notTombstone(bleve.NewDocIDQuery(ids)), len(ids), 0, false)
		req.SortBy([]string{"_id"})
		req.Fields = []string{RevisionField}
		res, err := (&target{idx: idx}).run(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("blevesearch: refs: %w", err)
		}
		for _, h := range res.Hits {
			rev, _ := h.Fields[RevisionField].(float64)
			out = append(out, search.DocRef{ID: h.ID, Revision: int64(rev)})
		}
		if !more {
			break
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}

// nextIDs returns the k smallest ids greater than after in the _id term
// dictionaries of idxs (deleted documents and tombstones included: the
// caller's search drops them), and whether more may follow.
func nextIDs(idxs []bleve.Index, after string, k int) (ids []string, more bool, err error) {
	var start []byte
	if after != "" {
		start = []byte(after)
	}
	for _, idx := range idxs {
		dict, err := idx.FieldDictRange("_id", start, nil)
		if err != nil {
			return nil, false, err
		}
		got := 0
		for got < k {
			e, err := dict.Next()
			if err != nil {
				dict.Close()
				return nil, false, err
			}
			if e == nil {
				break
			}
			if e.Term == after {
				continue
			}
			ids = append(ids, e.Term)
			got++
		}
		if got == k {
			more = true
		}
		if err := dict.Close(); err != nil {
			return nil, false, err
		}
	}
	if len(idxs) > 1 {
		sort.Strings(ids)
		ids = slices.Compact(ids)
		if len(ids) > k {
			ids, more = ids[:k], true
		}
	}
	return ids, more, nil
}
