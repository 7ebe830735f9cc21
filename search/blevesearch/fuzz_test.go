package blevesearch_test

import (
	"context"
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/searchtest"
)

// FuzzSearchRequest runs URL parameters end to end, RequestFromValues then
// Searcher.Search on a real bleve index, and a Request with the raw page and
// size: nothing panics, and every failure is a user error (ErrBadQuery) or
// the clear ErrUnsupported of pit=true — never an engine error. The seed
// corpus is in testdata/fuzz/FuzzSearchRequest.
func FuzzSearchRequest(f *testing.F) {
	for _, s := range []string{
		"q=history+of+science&size=5", "page=-1", "size=-3", "page=9223372036854775807&size=100",
		"page=4611686018427387904&size=4", "q=doi:*&facets=false", "q=title:*ab*cd*&sort=id",
		"q=date:[2017+TO+2018]&size=0", "after=eyJhIjpbIjEiXX0&sort=id", "q=%22a+b%22~2^3", "size=x",
		"q=date:>now-1y/y&date=2012-01-01T00:00:00.000Z", "size=1000000000000000000000", "pit=true",
	} {
		f.Add(s, 0, 0)
	}
	f.Add("q=a", -1, 5)
	f.Add("", math.MaxInt/2, math.MaxInt/2)
	e, err := search.Open(context.Background(), "bleve://"+f.TempDir()+"?sync=false")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	_, s := searchtest.SemanticsIndex(f, e)
	ok := func(err error, what string, t *testing.T) {
		if err != nil && !errors.Is(err, search.ErrBadQuery) && !errors.Is(err, search.ErrUnsupported) {
			t.Fatalf("%s: %v is not ErrBadQuery", what, err)
		}
	}
	f.Fuzz(func(t *testing.T, params string, page, size int) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		v, err := url.ParseQuery(params)
		if err == nil {
			r, err := search.RequestFromValues(v, s.FacetNames()...)
			ok(err, "RequestFromValues("+params+")", t)
			if err == nil {
				res, err := s.Search(ctx, r)
				ok(err, "Search("+params+")", t)
				if err == nil && r.Size > 0 && len(res.Hits) > r.Size {
					t.Fatalf("%s: %d hits for size %d", params, len(res.Hits), r.Size)
				}
			}
		}
		_, err = s.Search(ctx, &search.Request{Q: v.Get("q"), Page: page, Size: size})
		ok(err, "Search(page, size)", t)
	})
}
