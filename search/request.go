package search

import (
	"net/url"
	"strconv"
	"strings"
)

// Request is a user search as the REST layer receives it. Fill it with
// [RequestFromValues] or directly.
type Request struct {
	Q    string // query string (Lucene syntax, see Parse)
	Sort string // sort option name; "" = the configured default
	Page int    // 1-based page; 0 = 1
	Size int    // page size; 0 = the configured default
	// Facets holds facet filters: facet name → selected values. Values of a
	// hierarchical facet are "parent::child" or "parent".
	Facets map[string][]string
	// After is a cursor (Results.Next) for deep pagination with
	// search_after; Page must then be 0 or 1.
	After string
	// PIT asks for a point-in-time search (OpenSearch): the first request
	// opens one, the cursor carries it on.
	PIT bool
	// Filters are extra filters added by the application (not from users).
	Filters []Query
	// WithFacets turns facet counts on or off; nil = the default: on for a
	// first page, off for cursor pages (After set), as Zenodo's API does.
	WithFacets *bool
}

// RequestFromValues builds a Request from URL parameters: q, sort, page,
// size, after, pit, facets (true/false: compute facet counts), and any other
// parameter naming a configured facet (repeated for several values).
// Unknown parameters are ignored, as in Invenio; malformed numbers are
// ErrBadQuery.
func RequestFromValues(v url.Values, facetNames ...string) (*Request, error) {
	r := &Request{Q: v.Get("q"), Sort: v.Get("sort"), After: v.Get("after")}
	var err error
	if s := v.Get("page"); s != "" {
		if r.Page, err = strconv.Atoi(s); err != nil || r.Page < 1 {
			return nil, badParam("page", "must be a positive integer")
		}
	}
	if s := v.Get("size"); s != "" {
		if r.Size, err = strconv.Atoi(s); err != nil || r.Size < 0 {
			return nil, badParam("size", "must be a non-negative integer")
		}
	}
	if s := v.Get("facets"); s != "" {
		on, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil {
			return nil, badParam("facets", "must be true or false")
		}
		r.WithFacets = &on
	}
	if s := v.Get("pit"); s != "" {
		if r.PIT, err = strconv.ParseBool(strings.ToLower(s)); err != nil {
			return nil, badParam("pit", "must be true or false")
		}
	}
	for _, n := range facetNames {
		if vals, ok := v[n]; ok {
			if r.Facets == nil {
				r.Facets = map[string][]string{}
			}
			r.Facets[n] = append(r.Facets[n], vals...)
		}
	}
	return r, nil
}
