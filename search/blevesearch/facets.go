package blevesearch

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"

	"github.com/repokit/repokit/search"
)

// checkFacetField refuses a terms facet on a field bleve cannot bucket
// (text, objects, unmapped fields): OpenSearch refuses them too.
func checkFacetField(fields map[string]search.Field, f search.FacetSpec) error {
	for fs := &f; fs != nil; fs = fs.Sub {
		fl, ok := fields[fs.Field]
		if !ok {
			return fmt.Errorf("%w: facet %s: field %s is not mapped", search.ErrInvalid, f.Name, fs.Field)
		}
		switch fl.Type {
		case search.Keyword, search.Number, search.Date, search.Boolean:
		default:
			return fmt.Errorf("%w: facet %s: field %s is %s; terms facets need keyword, number, date or boolean fields", search.ErrInvalid, f.Name, fs.Field, fl.Type)
		}
	}
	return nil
}

// facetRequest builds the bleve terms facet of f. Numbers and dates are
// indexed as prefix-coded terms at several precisions: only full-precision
// terms (shift 0) are counted.
func facetRequest(fields map[string]search.Field, f search.FacetSpec) *bleve.FacetRequest {
	fr := bleve.NewFacetRequest(f.Field, f.Size)
	switch fields[f.Field].Type {
	case search.Number, search.Date:
		fr.SetPrefixFilter(string([]byte{numeric.ShiftStartInt64}))
	}
	return fr
}

// bucketsOf converts bleve facet terms to buckets with readable keys:
// numbers in decimal, dates in the portable date layout, booleans as
// true/false; ordered by count, then by value (numerically for numbers and
// dates), as OpenSearch's terms aggregation orders _count desc, _key asc.
func bucketsOf(f search.Field, fr *bsearch.FacetResult) *search.FacetResult {
	out := &search.FacetResult{}
	if fr == nil || fr.Terms == nil {
		return out
	}
	ts := append([]*bsearch.TermFacet(nil), fr.Terms.Terms()...)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Count != ts[j].Count {
			return ts[i].Count > ts[j].Count
		}
		return ts[i].Term < ts[j].Term // prefix-coded terms sort numerically
	})
	for _, t := range ts {
		key := t.Term
		switch f.Type {
		case search.Number, search.Date:
			pc := numeric.PrefixCoded(t.Term)
			if sh, err := pc.Shift(); err != nil || sh != 0 {
				continue
			}
			i, err := pc.Int64()
			if err != nil {
				continue
			}
			if f.Type == search.Date {
				key = search.FormatDate(time.Unix(0, i))
			} else {
				key = strconv.FormatFloat(numeric.Int64ToFloat64(i), 'f', -1, 64)
			}
		case search.Boolean:
			switch t.Term {
			case "T":
				key = "true"
			case "F":
				key = "false"
			}
		}
		out.Buckets = append(out.Buckets, search.Bucket{Key: key, Count: int64(t.Count)})
	}
	return out
}

// bucketFilter is the query selecting the documents of one bucket key.
func bucketFilter(f search.Field, path, key string) search.Query {
	switch f.Type {
	case search.Number, search.Date:
		return search.Range{Field: path, Kind: f.Type, From: key, To: key, IncludeFrom: true, IncludeTo: true}
	}
	return search.Term{Field: path, Value: key}
}

// searchErr maps bleve errors: refusals of a user query (*QueryError) are
// returned as they are (ErrBadQuery); others, a deadline included, are
// wrapped.
func searchErr(err error) error {
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return qe
	}
	return fmt.Errorf("blevesearch: search: %w", err)
}
