package search

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// FacetConfig is a named facet: a terms facet on a keyword Field, optionally
// hierarchical with a Sub field (values written "parent::child").
type FacetConfig struct {
	Field string
	Sub   string // child field for hierarchical facets ("" = flat)
	Size  int    // buckets returned (default 10)
}

// SearchConfig configures a Searcher. The zero value searches with
// MatchAll only; set at least Schema.Default for free-text queries.
type SearchConfig struct {
	// Schema is the field allow-list for query strings. Types are filled from
	// the index definition when nil.
	Schema Schema
	// Facets by name (the name is also the URL parameter of its filter).
	Facets map[string]FacetConfig
	// Sorts are the sort options by name. Defaults: bestmatch (score),
	// newest (created desc), oldest (created asc) when not set.
	Sorts map[string][]SortField
	// DefaultSort is used without a query (default "newest"),
	// DefaultSortQuery with one (default "bestmatch").
	DefaultSort, DefaultSortQuery string
	// DefaultSize (25) and MaxSize (100) bound page sizes; MaxResultWindow
	// (10000) bounds page*size; deeper pages need search_after.
	DefaultSize, MaxSize, MaxResultWindow int
	// Permission returns a filter for the caller of ctx (nil = no filter).
	// An error aborts the search.
	Permission func(ctx context.Context) (Query, error)
	// Aggs are aggregations returned with every first page (Results.Aggs),
	// over the query, the permission and application filters but not the
	// facet selections (OpenSearch's post_filter semantics); cursor pages
	// skip them.
	Aggs []Agg
}

// Searcher runs user Requests against an index.
type Searcher struct {
	ix  *Index
	cfg SearchConfig
}

// NewSearcher returns a Searcher over ix.
func NewSearcher(ix *Index, cfg SearchConfig) *Searcher {
	if cfg.DefaultSize == 0 {
		cfg.DefaultSize = 25
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = 100
	}
	if cfg.MaxResultWindow == 0 {
		cfg.MaxResultWindow = 10000
	}
	if cfg.Sorts == nil {
		cfg.Sorts = map[string][]SortField{
			"bestmatch": {{Field: "_score", Desc: true}},
			"newest":    {{Field: "created", Desc: true}},
			"oldest":    {{Field: "created"}},
		}
	}
	if cfg.DefaultSort == "" {
		cfg.DefaultSort = "newest"
	}
	if cfg.DefaultSortQuery == "" {
		cfg.DefaultSortQuery = "bestmatch"
	}
	return &Searcher{ix: ix, cfg: cfg}
}

// FacetNames returns the configured facet names (for RequestFromValues).
func (s *Searcher) FacetNames() []string {
	var ns []string
	for n := range s.cfg.Facets {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Build compiles a Request into a Spec (exported for tests and for callers
// that want to adjust it before running).
func (s *Searcher) Build(ctx context.Context, r *Request) (*Spec, error) {
	schema := s.cfg.Schema
	if schema.Types == nil {
		schema.Types = map[string]FieldType{}
		s.ix.mu.RLock()
		for p, f := range s.ix.fields {
			schema.Types[p] = f.Type
		}
		s.ix.mu.RUnlock()
	}
	q, err := Parse(r.Q, &schema)
	if err != nil {
		return nil, err
	}
	filters := append([]Query(nil), r.Filters...)
	if s.cfg.Permission != nil {
		pf, err := s.cfg.Permission(ctx)
		if err != nil {
			return nil, err
		}
		if pf != nil {
			filters = append(filters, pf)
		}
	}
	spec := &Spec{Query: AndFilter(q, filters...), TrackTotal: true}
	if r.After == "" {
		spec.Aggs = s.cfg.Aggs
	}

	// facet filters: post_filter for hits, and each facet counts with the
	// other facets' filters only.
	names := s.FacetNames()
	ffs := map[string]Query{}
	for name, vals := range r.Facets {
		fc, ok := s.cfg.Facets[name]
		if !ok {
			return nil, badParam(name, "unknown facet")
		}
		if len(vals) == 0 {
			continue
		}
		ffs[name] = facetFilter(fc, vals)
	}
	var all []Query
	for _, n := range names {
		if f, ok := ffs[n]; ok {
			all = append(all, f)
		}
	}
	if len(all) > 0 {
		spec.PostFilter = And(all...)
	}
	for _, n := range names {
		fc := s.cfg.Facets[n]
		var others []Query
		for _, m := range names {
			if f, ok := ffs[m]; ok && m != n {
				others = append(others, f)
			}
		}
		size := fc.Size
		if size <= 0 {
			size = 10
		}
		fs := FacetSpec{Name: n, Field: fc.Field, Size: size}
		if len(others) > 0 {
			fs.Filter = And(others...)
		}
		if fc.Sub != "" {
			fs.Sub = &FacetSpec{Name: n, Field: fc.Sub, Size: size}
		}
		spec.Facets = append(spec.Facets, fs)
	}

	// sort
	name := r.Sort
	if name == "" {
		name = s.cfg.DefaultSort
		if strings.TrimSpace(r.Q) != "" {
			name = s.cfg.DefaultSortQuery
		}
	}
	so, ok := s.cfg.Sorts[name]
	if !ok {
		return nil, badParam("sort", "unknown sort option %q", name)
	}
	spec.Sort = append([]SortField(nil), so...)

	// pagination
	size := r.Size
	if size == 0 {
		size = s.cfg.DefaultSize
	}
	if size > s.cfg.MaxSize {
		return nil, badParam("size", "must be at most %d", s.cfg.MaxSize)
	}
	spec.Size = size
	page := r.Page
	if page == 0 {
		page = 1
	}
	if r.After != "" {
		if page != 1 {
			return nil, badParam("page", "cannot be combined with a cursor")
		}
		c, err := decodeCursor(r.After)
		if err != nil {
			return nil, err
		}
		if len(c.After) != len(spec.Sort)+1 {
			return nil, badParam("after", "cursor does not match the sort option")
		}
		spec.After, spec.PIT = c.After, c.PIT
	} else {
		if page*size > s.cfg.MaxResultWindow {
			return nil, badParam("page", "page*size must be at most %d (use the cursor for deeper pages)", s.cfg.MaxResultWindow)
		}
		spec.From = (page - 1) * size
	}
	return spec, nil
}

// Search runs a Request. Bad user input is ErrBadQuery.
func (s *Searcher) Search(ctx context.Context, r *Request) (*Results, error) {
	spec, err := s.Build(ctx, r)
	if err != nil {
		return nil, err
	}
	if r.PIT && spec.PIT == "" {
		id, err := s.ix.OpenPIT(ctx, "1m")
		if err == nil {
			spec.PIT = id
		} else if err != ErrUnsupported {
			return nil, fmt.Errorf("search: open point in time: %w", err)
		}
	}
	return s.ix.Query(ctx, spec)
}

func facetFilter(fc FacetConfig, vals []string) Query {
	var alts []Query
	var flat []string
	for _, v := range vals {
		if fc.Sub != "" {
			if parent, child, ok := strings.Cut(v, "::"); ok {
				alts = append(alts, Bool{Filter: []Query{Term{Field: fc.Field, Value: parent}, Term{Field: fc.Sub, Value: child}}})
				continue
			}
		}
		flat = append(flat, v)
	}
	if len(flat) > 0 {
		alts = append(alts, Terms{Field: fc.Field, Values: flat})
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return Bool{Should: alts}
}
