package searchtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
)

// The semantics suite holds every driver to the hits OpenSearch gives for
// the query_string forms that Zenodo's and Invenio's search guides teach:
// exists (field:*, _exists_), stop words kept by the standard analyzer,
// ASCII folding, fuzzy terms, sloppy phrases, boosts, partial dates with
// OpenSearch's missing-component and date-math rounding rules, comparison
// operators, wildcards, and number/date facets. The expected hits are written
// out by hand from OpenSearch's documented behaviour, so the embedded engine
// and the fake are both checked against the same answers (not against each
// other).

// SemanticsDefinition is the index of the semantics suite: a text field with
// the standard analyzer, one with a custom asciifolding analyzer, keyword,
// long and date fields.
var SemanticsDefinition = search.Definition{
	Mappings: json.RawMessage(`{"properties": {
    "title": {"type": "text"},
    "folded": {"type": "text", "analyzer": "folding"},
    "abstract": {"type": "text", "index_options": "freqs"},
    "doi": {"type": "keyword"},
    "tags": {"type": "keyword"},
    "size": {"type": "long"},
    "date": {"type": "date"},
    "open": {"type": "boolean"}
  }}`),
	Settings: json.RawMessage(`{"number_of_shards": 1, "number_of_replicas": 0,
    "analysis": {"analyzer": {"folding": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}}}}`),
}

// semanticsDocs are the documents, as JSON sources (partial dates, missing
// and null fields, empty strings and arrays on purpose).
var semanticsDocs = map[string]string{
	"d01": `{"title": "History of Science", "doi": "10.1234/a", "size": 500, "date": "2012", "tags": ["physics"], "open": true}`,
	"d02": `{"title": "The history of modern science", "size": 1500000, "date": "2012-05", "tags": []}`,
	"d03": `{"title": "Science of history", "doi": "", "size": 1000000, "date": "2016-07-14", "open": false}`,
	"d04": `{"title": "Hans Müller on quantum theory", "folded": "Hans Müller on quantum theory", "doi": "10.1234/b", "date": "2016-01-01T10:00:00Z", "tags": ["physics", "quantum"]}`,
	"d05": `{"title": "Dark matter in galaxies", "abstract": "Dark matter holds galaxies together", "doi": null, "size": 2000, "date": "2017-01-01", "tags": ["astro"]}`,
	"d06": `{"title": "Matter, dark", "abstract": "Matter that is dark", "size": 2000, "date": "2018-01-01T23:00:00Z", "tags": ["astro"]}`,
	"d07": `{"title": "Dark energy and matter", "size": 3000, "date": "2018-01-02", "tags": ["astro"]}`,
	"d08": `{"title": "A quantum theroy", "folded": "Ærø Straße", "date": null}`,
	"d09": `{"title": "The", "date": "2017-06", "size": 2000}`,
	"d10": `{"title": "", "doi": "10.5555/x"}`,
}

// semanticsNow is the clock of date math in the suite.
var semanticsNow = time.Date(2019, 3, 15, 12, 0, 0, 0, time.UTC)

func semanticsConfig() search.SearchConfig {
	return search.SearchConfig{
		Schema: search.Schema{
			Fields: map[string]string{"title": "title", "folded": "folded", "abstract": "abstract", "doi": "doi", "tags": "tags",
				"size": "size", "date": "date", "open": "open"},
			Default: []string{"title"},
			Now:     func() time.Time { return semanticsNow },
		},
		Facets: map[string]search.FacetConfig{
			"size": {Field: "size", Size: 10},
			"date": {Field: "date", Size: 3},
			"open": {Field: "open", Size: 10},
			"tags": {Field: "tags", Size: 10},
		},
		Sorts:   map[string][]search.SortField{"id": {{Field: "_id"}}},
		MaxSize: 50,
	}
}

// SemanticsCase is one query of the suite with the ids it must find; an
// empty Want with Bad set means the query must be refused with ErrBadQuery.
type SemanticsCase struct {
	Q    string
	Want []string
	Bad  bool
}

// SemanticsCases are the query_string cases of the suite.
var SemanticsCases = []SemanticsCase{
	// exists
	{Q: "doi:*", Want: []string{"d01", "d03", "d04", "d10"}}, // "" exists, null does not
	{Q: "_exists_:doi", Want: []string{"d01", "d03", "d04", "d10"}},
	{Q: "-doi:*", Want: []string{"d02", "d05", "d06", "d07", "d08", "d09"}},
	{Q: "NOT _exists_:doi", Want: []string{"d02", "d05", "d06", "d07", "d08", "d09"}},
	{Q: "tags:*", Want: []string{"d01", "d04", "d05", "d06", "d07"}}, // [] does not exist
	{Q: "size:*", Want: []string{"d01", "d02", "d03", "d05", "d06", "d07", "d09"}},
	{Q: "date:*", Want: []string{"d01", "d02", "d03", "d04", "d05", "d06", "d07", "d09"}},
	{Q: "open:*", Want: []string{"d01", "d03"}},
	{Q: "title:*", Want: []string{"d01", "d02", "d03", "d04", "d05", "d06", "d07", "d08", "d09", "d10"}}, // "" exists too
	{Q: "folded:* AND -title:quantum", Want: []string{}},
	// stop words are words (standard analyzer)
	{Q: "history of science", Want: []string{"d01", "d02", "d03"}},
	{Q: "title:the", Want: []string{"d02", "d09"}},
	{Q: "the", Want: []string{"d02", "d09"}},
	{Q: `"history of science"`, Want: []string{"d01"}},
	{Q: `"history the science"`, Want: []string{}},
	{Q: `title:"science of history"`, Want: []string{"d03"}},
	// sloppy phrases
	{Q: `"history science"`, Want: []string{}},
	{Q: `"history science"~1`, Want: []string{"d01"}},
	{Q: `"history science"~2`, Want: []string{"d01", "d02"}},
	{Q: `"science history"~2`, Want: []string{"d03"}},
	{Q: `"science history"~3`, Want: []string{"d01", "d03"}},
	{Q: `"dark matter"`, Want: []string{"d05"}},
	{Q: `"dark matter"~1`, Want: []string{"d05"}},
	{Q: `"dark matter"~2`, Want: []string{"d05", "d06", "d07"}},
	// ASCII folding is a mapping option
	{Q: "folded:muller", Want: []string{"d04"}},
	{Q: "folded:Müller", Want: []string{"d04"}},
	{Q: "folded:MÜL*", Want: []string{"d04"}},
	{Q: "folded:strasse", Want: []string{"d08"}},
	{Q: "folded:aero", Want: []string{"d08"}},
	{Q: "title:muller", Want: []string{}},
	{Q: "title:müller", Want: []string{"d04"}},
	// fuzzy terms (Damerau: a transposition is one edit)
	{Q: "title:theroy~1", Want: []string{"d04", "d08"}},
	{Q: "title:theory~0", Want: []string{"d04"}},
	{Q: "title:quantom~", Want: []string{"d04", "d08"}},
	{Q: "quantom~1", Want: []string{"d04", "d08"}},
	{Q: "title:da~", Want: []string{}}, // AUTO: no edit for two letters
	{Q: "title:drak~1", Want: []string{"d05", "d06", "d07"}},
	{Q: "doi:10.1234/c~1", Want: []string{"d01", "d04"}},
	// boosts change scores, not hits
	{Q: "title:dark^2 OR title:energy", Want: []string{"d05", "d06", "d07"}},
	{Q: "(dark matter)^3", Want: []string{"d05", "d06", "d07"}},
	{Q: `"dark matter"^2 -title:galaxies`, Want: []string{}},
	// dates: partial values are indexed as their first instant; bounds
	// follow OpenSearch's missing-component rules
	{Q: "date:2012", Want: []string{"d01"}},
	{Q: "date:2012-05", Want: []string{"d02"}},
	{Q: "date:2016||/y", Want: []string{"d03", "d04"}},
	{Q: "date:[2017 TO 2018]", Want: []string{"d05", "d06", "d09"}},
	{Q: "date:{2017 TO 2018}", Want: []string{"d09"}},
	{Q: "date:[2017 TO 2018}", Want: []string{"d05", "d09"}},
	{Q: "date:[2016-01-01T10 TO 2016-01-01T10]", Want: []string{"d04"}},
	{Q: "date:>=2018", Want: []string{"d06", "d07"}},
	{Q: "date:>2018", Want: []string{"d07"}},
	{Q: "date:<2012-05", Want: []string{"d01"}},
	{Q: "date:<=2012-05", Want: []string{"d01", "d02"}},
	{Q: "date:>=now-2y/y", Want: []string{"d05", "d06", "d07", "d09"}},
	{Q: "date:<now-2y/y", Want: []string{"d01", "d02", "d03", "d04"}},
	{Q: "date:[2017-03-04||/M TO 2017-06-30||/M]", Want: []string{"d09"}},
	{Q: "date:[2018-01-01||+1d TO now]", Want: []string{"d07"}},
	{Q: "date:[* TO 2012-05-01]", Want: []string{"d01", "d02"}},
	// comparison operators on numbers
	{Q: "size:>1000000", Want: []string{"d02"}},
	{Q: "size:>=1000000", Want: []string{"d02", "d03"}},
	{Q: "size:<1000", Want: []string{"d01"}},
	{Q: "size:<=2000", Want: []string{"d01", "d05", "d06", "d09"}},
	{Q: "size:2000", Want: []string{"d05", "d06", "d09"}},
	{Q: "size:[2000 TO 3000}", Want: []string{"d05", "d06", "d09"}},
	{Q: "doi:>10.2", Want: []string{"d10"}},
	// wildcards and prefixes
	{Q: "doi:10.1234*", Want: []string{"d01", "d04"}},
	{Q: "doi:*/x", Want: []string{"d10"}},
	{Q: "title:*ory", Want: []string{"d01", "d02", "d03", "d04"}},
	{Q: "title:th?", Want: []string{"d02", "d09"}},
	{Q: "title:Gal*", Want: []string{"d05"}},
	// booleans
	{Q: "open:true", Want: []string{"d01"}},
	{Q: "open:false", Want: []string{"d03"}},
	// refused, on every engine
	{Q: "title:a~3", Bad: true},
	{Q: "size:abc*", Bad: true},
	{Q: "size:>x", Bad: true},
	{Q: "date:>2012-13", Bad: true},
	{Q: "title:" + strings.Repeat("*a", 30), Bad: true},
	{Q: strings.Repeat("title:*ab ", 200), Bad: true},
	{Q: strings.Repeat("a* OR ", 600) + "b", Bad: true},
	{Q: `"a b"~1000`, Bad: true},
	// a text field indexed without positions (index_options freqs) finds
	// words, and a one-word phrase as a word; a longer phrase or a
	// proximity query is refused (OpenSearch: "field was indexed without
	// position data"), never answered as if the words were adjacent
	{Q: "abstract:dark", Want: []string{"d05", "d06"}},
	{Q: `abstract:"Dark"`, Want: []string{"d05", "d06"}},
	{Q: "abstract:(dark AND galaxies)", Want: []string{"d05"}},
	{Q: `abstract:"dark matter"`, Bad: true},
	{Q: `abstract:"matter dark"~3`, Bad: true},
	{Q: `title:galaxies OR abstract:"dark matter"`, Bad: true},
	{Q: `abstract:"dark-matter"`, Bad: true},
}

// SemanticsIndex creates index "things" of the semantics suite on e, fills
// it and returns a Searcher with the suite's configuration (fields title,
// folded, doi, tags, size, date, open; facets size, date, open, tags; sort
// "id").
func SemanticsIndex(t testing.TB, e *search.Engine) (*search.Index, *search.Searcher) {
	t.Helper()
	ctx := context.Background()
	ix, err := e.CreateIndex(ctx, "things", SemanticsDefinition)
	if err != nil {
		t.Fatal(err)
	}
	var ops []search.Op
	for id, src := range semanticsDocs {
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: id, Revision: 1, Source: json.RawMessage(src)})
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
	return ix, NewSearcherT(t, ix, semanticsConfig())
}

func testSemantics(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, s := SemanticsIndex(t, h.NewEngine(t))
	for _, c := range SemanticsCases {
		res, err := s.Search(ctx, &search.Request{Q: c.Q, Sort: "id", Size: 50})
		name := c.Q
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		if c.Bad {
			var qe *search.QueryError
			if !errors.Is(err, search.ErrBadQuery) || !errors.As(err, &qe) {
				t.Errorf("%s: %v, want a *QueryError (ErrBadQuery)", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := ids(res)
		sort.Strings(got)
		want := append([]string{}, c.Want...)
		sort.Strings(want)
		if !slices.Equal(got, want) || res.Total != int64(len(want)) {
			t.Errorf("%s: hits %v (total %d), want %v", name, got, res.Total, want)
		}
	}

	// number, date and boolean facets have readable keys, ordered by count
	// then value; their keys select their documents back
	res, err := s.Search(ctx, &search.Request{Sort: "id", Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	wantFacets := map[string]string{
		"size": "2000:3 500:1 3000:1 1000000:1 1500000:1",
		"date": "2012-01-01T00:00:00.000Z:1 2012-05-01T00:00:00.000Z:1 2016-01-01T10:00:00.000Z:1",
		"open": "false:1 true:1",
		"tags": "astro:3 physics:2 quantum:1",
	}
	for name, w := range wantFacets {
		if got := facetString(res.Facets[name]); got != w {
			t.Errorf("facet %s: %s, want %s", name, got, w)
		}
	}
	for name, sel := range map[string]struct {
		vals []string
		want []string
	}{
		"size": {[]string{"2000", "1500000"}, []string{"d02", "d05", "d06", "d09"}},
		"date": {[]string{"2016-01-01T10:00:00.000Z"}, []string{"d04"}},
		"open": {[]string{"false"}, []string{"d03"}},
	} {
		res, err := s.Search(ctx, &search.Request{Sort: "id", Size: 50, Facets: map[string][]string{name: sel.vals}})
		if err != nil {
			t.Errorf("facet filter %s=%v: %v", name, sel.vals, err)
			continue
		}
		if got := ids(res); !slices.Equal(got, sel.want) {
			t.Errorf("facet filter %s=%v: %v, want %v", name, sel.vals, got, sel.want)
		}
	}
	if _, err := s.Search(ctx, &search.Request{Facets: map[string][]string{"size": {"big"}}}); !errors.Is(err, search.ErrBadQuery) {
		t.Errorf("facet filter size=big: %v, want ErrBadQuery", err)
	}
	// negative or overflowing pagination never reaches the engine
	for _, r := range []*search.Request{{Size: -1}, {Page: -1}, {Page: math.MaxInt / 2, Size: 50}, {Page: 1<<31 - 1, Size: 2}} {
		if _, err := s.Search(ctx, r); !errors.Is(err, search.ErrBadQuery) {
			t.Errorf("page %d size %d: %v, want ErrBadQuery", r.Page, r.Size, err)
		}
	}
	for _, sp := range []*search.Spec{{Size: -1}, {From: -5, Size: 1}, {From: math.MaxInt / 2, Size: math.MaxInt / 2}} {
		if _, err := ix.Query(ctx, sp); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("spec from %d size %d: %v, want ErrInvalid", sp.From, sp.Size, err)
		}
	}
	// a phrase built in code on a field without positions is refused by
	// the engine too, alone or among other fields
	for _, q := range []search.Query{
		search.Phrase{Field: "abstract", Text: "dark matter"},
		search.Phrase{Fields: []string{"title", "abstract"}, Text: "dark matter"},
		search.Bool{Filter: []search.Query{search.Term{Field: "tags", Value: "astro"}}, Must: []search.Query{search.Phrase{Field: "abstract", Text: "that is", Slop: 2}}},
	} {
		if _, err := ix.Query(ctx, &search.Spec{Query: q, Size: 10}); !errors.Is(err, search.ErrBadQuery) {
			t.Errorf("%+v on a field without positions: %v, want ErrBadQuery", q, err)
		}
	}
	if res, err := ix.Query(ctx, &search.Spec{Query: search.Phrase{Field: "abstract", Text: "galaxies"}, Size: 10}); err != nil || len(res.Hits) != 1 || res.Hits[0].ID != "d05" {
		t.Errorf("one-word phrase on a field without positions: %v %v, want d05", res, err)
	}
	// a facet on a text field is a configuration error
	cfg := semanticsConfig()
	cfg.Facets["title"] = search.FacetConfig{Field: "title"}
	if _, err := search.NewSearcher(ix, cfg); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("facet on a text field: %v, want ErrInvalid", err)
	}
}

func facetString(fr *search.FacetResult) string {
	if fr == nil {
		return "<none>"
	}
	var parts []string
	for _, b := range fr.Buckets {
		parts = append(parts, fmt.Sprintf("%s:%d", b.Key, b.Count))
	}
	return strings.Join(parts, " ")
}

// testWait: WaitRevision sees a written revision (and not a newer one that
// was never written), WaitGone sees a delete.
func testWait(t *testing.T, h Harness) {
	ctx := ctxT(t)
	e := h.NewEngine(t)
	ix, err := e.CreateIndex(ctx, "things", SemanticsDefinition)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Put(ctx, search.Document{ID: "w1", Revision: 3, Source: json.RawMessage(`{"title": "x"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := ix.WaitRevision(ctx, "w1", 3); err != nil {
		t.Fatalf("WaitRevision(3): %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := ix.WaitRevision(short, "w1", 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitRevision(4) of a revision never written: %v, want a deadline", err)
	}
	if _, err := ix.Delete(ctx, "w1", 5); err != nil {
		t.Fatal(err)
	}
	if err := ix.WaitGone(ctx, "w1"); err != nil {
		t.Errorf("WaitGone: %v", err)
	}
}
