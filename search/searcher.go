package search

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FacetConfig is a named facet: a terms facet on a keyword, number, date or
// boolean Field (number and date buckets have decimal and date keys, which
// are also the values of the facet's filter), optionally hierarchical with a
// Sub field (values written "parent::child").
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
	// Timeout bounds one search (default 10s) when ctx has no earlier
	// deadline.
	Timeout time.Duration
}

// Searcher runs user Requests against an index.
type Searcher struct {
	ix  *Index
	cfg SearchConfig
}

// NewSearcher returns a Searcher over ix. A facet on a field the index does
// not map or cannot bucket (text, object), or inconsistent sizes, are an
// ErrInvalid configuration error.
func NewSearcher(ix *Index, cfg SearchConfig) (*Searcher, error) {
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
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.DefaultSize < 1 || cfg.MaxSize < 1 || cfg.MaxResultWindow < 1 || cfg.DefaultSize > cfg.MaxSize {
		return nil, fmt.Errorf("%w: search config: sizes must be positive and DefaultSize <= MaxSize", ErrInvalid)
	}
	for name, fc := range cfg.Facets {
		for _, path := range []string{fc.Field, fc.Sub} {
			if path == "" {
				continue
			}
			f, ok := ix.Field(path)
			if !ok {
				return nil, fmt.Errorf("%w: facet %s: field %s is not mapped in index %s", ErrInvalid, name, path, ix.Name())
			}
			switch f.Type {
			case Keyword, Number, Date, Boolean:
			default:
				return nil, fmt.Errorf("%w: facet %s: field %s is %s; facets need keyword, number, date or boolean fields", ErrInvalid, name, path, f.Type)
			}
		}
	}
	return &Searcher{ix: ix, cfg: cfg}, nil
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
	if r.Size < 0 {
		return nil, badParam("size", "must not be negative")
	}
	if r.Page < 0 {
		return nil, badParam("page", "must not be negative")
	}
	schema := s.cfg.Schema
	if schema.Types == nil || schema.Analysis == nil {
		types, analysis := map[string]FieldType{}, map[string]Field{}
		s.ix.mu.RLock()
		for p, f := range s.ix.fields {
			types[p] = f.Type
			if f.Type == Text {
				analysis[p] = f
			}
		}
		s.ix.mu.RUnlock()
		if schema.Types == nil {
			schema.Types = types
		}
		if schema.Analysis == nil {
			schema.Analysis = analysis
		}
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
		ff, err := s.facetFilter(name, fc, vals)
		if err != nil {
			return nil, err
		}
		ffs[name] = ff
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
	spec.Binding = cursorBinding(name, so, r)

	// pagination (no product is computed before both factors are bounded)
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
		if c.Binding != spec.Binding || len(c.After) != len(spec.Sort)+1 {
			return nil, badParam("after", "cursor belongs to another query or sort option; start again from the first page")
		}
		spec.After, spec.PIT = c.After, c.PIT
	} else {
		if page > s.cfg.MaxResultWindow/size || page*size > s.cfg.MaxResultWindow {
			return nil, badParam("page", "page*size must be at most %d (use the cursor for deeper pages)", s.cfg.MaxResultWindow)
		}
		spec.From = (page - 1) * size
	}
	// facets: on for first pages, off for cursor pages, unless asked
	facets := r.After == ""
	if r.WithFacets != nil {
		facets = *r.WithFacets
	}
	if !facets {
		spec.Facets = nil
	}
	return spec, nil
}

// cursorBinding fingerprints what a cursor is valid for: the sort option and
// the query (q and facet selections).
func cursorBinding(sortName string, so []SortField, r *Request) string {
	h := sha256.New()
	sb, _ := json.Marshal(so)
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", sortName, sb, r.Q)
	var names []string
	for n := range r.Facets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		vs := append([]string(nil), r.Facets[n]...)
		sort.Strings(vs)
		fmt.Fprintf(h, "%s=%q\x00", n, vs)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

// Search runs a Request. Bad user input is ErrBadQuery.
func (s *Searcher) Search(ctx context.Context, r *Request) (*Results, error) {
	spec, err := s.Build(ctx, r)
	if err != nil {
		return nil, err
	}
	if s.cfg.Timeout > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > s.cfg.Timeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
			defer cancel()
		}
	}
	if r.PIT && spec.PIT == "" {
		id, err := s.ix.OpenPIT(ctx, "1m")
		if errors.Is(err, ErrUnsupported) {
			return nil, fmt.Errorf("%w: pit: this search engine has no point-in-time searches; page with the cursor (after) instead", ErrUnsupported)
		}
		if err != nil {
			return nil, fmt.Errorf("search: open point in time: %w", err)
		}
		spec.PIT = id
	}
	res, err := s.ix.Query(ctx, spec)
	if err != nil {
		return nil, err
	}
	if res.Next != "" {
		c, _ := decodeCursor(res.Next)
		c.Binding = spec.Binding
		res.Next = encodeCursor(c)
	}
	return res, nil
}

// facetFilter is the filter of the selected values of a facet: terms on
// keyword and boolean fields, exact ranges on number and date fields (whose
// bucket keys are decimal numbers and dates).
func (s *Searcher) facetFilter(name string, fc FacetConfig, vals []string) (Query, error) {
	one := func(path string, vs []string) (Query, error) {
		f, _ := s.ix.Field(path)
		switch f.Type {
		case Number, Date:
			var alts []Query
			for _, v := range vs {
				if f.Type == Number {
					x, err := parseFloat(v)
					if err != nil {
						return nil, badParam(name, "%q is not a number", v)
					}
					v = x
				} else {
					t, err := ParseDate(v)
					if err != nil {
						return nil, badParam(name, "%v", err)
					}
					v = FormatDate(t)
				}
				alts = append(alts, Range{Field: path, Kind: f.Type, From: v, To: v, IncludeFrom: true, IncludeTo: true})
			}
			if len(alts) == 1 {
				return alts[0], nil
			}
			return Bool{Should: alts}, nil
		case Boolean:
			for _, v := range vs {
				if v != "true" && v != "false" {
					return nil, badParam(name, "%q is not true or false", v)
				}
			}
		}
		if len(vs) == 1 {
			return Term{Field: path, Value: vs[0]}, nil
		}
		return Terms{Field: path, Values: vs}, nil
	}
	var alts []Query
	var flat []string
	for _, v := range vals {
		if fc.Sub != "" {
			if parent, child, ok := strings.Cut(v, "::"); ok {
				pq, err := one(fc.Field, []string{parent})
				if err != nil {
					return nil, err
				}
				cq, err := one(fc.Sub, []string{child})
				if err != nil {
					return nil, err
				}
				alts = append(alts, Bool{Filter: []Query{pq, cq}})
				continue
			}
		}
		flat = append(flat, v)
	}
	if len(flat) > 0 {
		q, err := one(fc.Field, flat)
		if err != nil {
			return nil, err
		}
		alts = append(alts, q)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Bool{Should: alts}, nil
}

func parseFloat(v string) (string, error) {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return "", fmt.Errorf("not a number")
	}
	return strconv.FormatFloat(x, 'g', -1, 64), nil
}
