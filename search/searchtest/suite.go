// Package searchtest is the conformance suite every search driver runs (in
// the manner of gocloud.dev's drivertest): index management, external
// versions with tombstones, per-item bulk results, query parsing and
// compilation, facets with post-filter semantics, sorting, pagination,
// search_after cursors, permission filters, mapping updates and reindexing.
package searchtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
)

// Harness opens engines for the suite.
type Harness struct {
	// NewEngine returns an engine with a prefix unique to this test; the
	// harness closes and cleans it up (t.Cleanup).
	NewEngine func(t *testing.T) *search.Engine
	// PIT: the driver supports point-in-time searches.
	PIT bool
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"IndexLifecycle", testIndexLifecycle},
		{"ExternalVersions", testExternalVersions},
		{"BulkPerItem", testBulkPerItem},
		{"ConcurrentRevisions", testConcurrentRevisions},
		{"Queries", testQueries},
		{"BadQueries", testBadQueries},
		{"Facets", testFacets},
		{"SortAndPages", testSortAndPages},
		{"SearchAfter", testSearchAfter},
		{"Permission", testPermission},
		{"Refs", testRefs},
		{"UpdateMapping", testUpdateMapping},
		{"Reindex", testReindex},
		{"Aggregations", testAggs},
		{"Geo", testGeo},
		{"Semantics", testSemantics},
		{"Wait", testWait},
	}
	if h.PIT {
		tests = append(tests, struct {
			name string
			fn   func(t *testing.T, h Harness)
		}{"PointInTime", testPIT})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // generous: a loaded CI machine
	t.Cleanup(cancel)
	return ctx
}

func seeded(t *testing.T, h Harness, n int) (*search.Index, []TestDoc) {
	t.Helper()
	ctx := ctxT(t)
	e := h.NewEngine(t)
	ix, err := e.CreateIndex(ctx, "records", TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	docs := SeedDocs(n)
	ops := make([]search.Op, len(docs))
	for i, d := range docs {
		ops[i] = search.Op{Kind: search.OpIndex, ID: d.ID, Revision: 1, Source: d.Source()}
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

// Config is the SearchConfig the suite uses.
func Config() search.SearchConfig {
	return search.SearchConfig{
		Schema: search.Schema{
			Fields: map[string]string{
				"title": "title", "description": "description", "type": "type", "subtype": "subtype",
				"year": "year", "open": "open", "created": "created", "creator": "metadata.creator",
				"access": "access",
			},
			Default: []string{"title", "description"},
		},
		Facets: map[string]search.FacetConfig{
			"type":    {Field: "type", Sub: "subtype", Size: 10},
			"access":  {Field: "access", Size: 10},
			"creator": {Field: "metadata.creator", Size: 10},
		},
		Sorts: map[string][]search.SortField{
			"bestmatch": {{Field: "_score", Desc: true}},
			"newest":    {{Field: "created", Desc: true}},
			"oldest":    {{Field: "created"}},
			"year":      {{Field: "year"}, {Field: "created", Desc: true}},
		},
		MaxSize:         50,
		MaxResultWindow: 50,
	}
}

func ids(res *search.Results) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out
}

func sortedIDs(res *search.Results) []string {
	out := ids(res)
	sort.Strings(out)
	return out
}

func want(docs []TestDoc, pred func(TestDoc) bool) []string {
	var out []string
	for _, d := range docs {
		if pred(d) {
			out = append(out, d.ID)
		}
	}
	sort.Strings(out)
	return out
}

func testIndexLifecycle(t *testing.T, h Harness) {
	ctx := ctxT(t)
	e := h.NewEngine(t)
	if ok, err := e.IndexExists(ctx, "things"); err != nil || ok {
		t.Fatalf("exists before create = %v, %v", ok, err)
	}
	if _, err := e.OpenIndex(ctx, "things"); !errors.Is(err, search.ErrNotFound) {
		t.Fatalf("open missing: %v, want ErrNotFound", err)
	}
	ix, err := e.CreateIndex(ctx, "things", TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := e.IndexExists(ctx, "things"); err != nil || !ok {
		t.Fatalf("exists after create = %v, %v", ok, err)
	}
	if _, err := e.CreateIndex(ctx, "things", TestDefinition); !errors.Is(err, search.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	if _, err := e.CreateIndex(ctx, "Bad/Name", TestDefinition); !errors.Is(err, search.ErrInvalid) {
		t.Fatalf("bad name: %v, want ErrInvalid", err)
	}
	if _, err := e.CreateIndex(ctx, "broken", search.Definition{Mappings: []byte(`{"properties":{"x":{"type":"nonsense"}}}`)}); !errors.Is(err, search.ErrInvalid) {
		t.Fatalf("bad definition: %v, want ErrInvalid", err)
	}
	cs, err := e.Driver().Resolve(ctx, ix.Alias())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || !regexp.MustCompile("^"+regexp.QuoteMeta(ix.Alias())+`-\d+$`).MatchString(cs[0]) {
		t.Fatalf("alias %s → %v, want one <alias>-<unixts>", ix.Alias(), cs)
	}
	if !strings.HasPrefix(ix.Alias(), e.Prefix()) {
		t.Fatalf("alias %s lacks prefix %s", ix.Alias(), e.Prefix())
	}
	ix2, err := e.OpenIndex(ctx, "things")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := ix2.Field("metadata.creator"); !ok || f.Type != search.Keyword {
		t.Fatalf("reopened definition lost metadata.creator: %+v %v", f, ok)
	}
	if err := e.DeleteIndex(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.IndexExists(ctx, "things"); err != nil || ok {
		t.Fatalf("exists after delete = %v, %v", ok, err)
	}
	if ok, _ := e.Driver().Exists(ctx, cs[0]); ok {
		t.Fatalf("concrete index %s survived delete", cs[0])
	}
	if err := e.DeleteIndex(ctx, "things"); !errors.Is(err, search.ErrNotFound) {
		t.Fatalf("delete missing: %v, want ErrNotFound", err)
	}
}

func get(t *testing.T, ix *search.Index, id string) *search.Hit {
	t.Helper()
	ctx := ctxT(t)
	if err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Query(ctx, &search.Spec{Query: search.Term{Field: "id", Value: id}, Size: 5, TrackTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 {
		return nil
	}
	if len(res.Hits) > 1 {
		t.Fatalf("%d hits for id %s", len(res.Hits), id)
	}
	return &res.Hits[0]
}

func put(t *testing.T, ix *search.Index, id string, rev int64, title string) search.Status {
	t.Helper()
	st, err := ix.Put(ctxT(t), search.Document{ID: id, Revision: rev, Source: []byte(fmt.Sprintf(`{"id":%q,"title":%q}`, id, title))}, search.Refresh())
	if err != nil {
		t.Fatalf("put %s@%d: %v", id, rev, err)
	}
	return st
}

func testExternalVersions(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, err := h.NewEngine(t).CreateIndex(ctx, "v", TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	if st := put(t, ix, "a", 2, "two"); st != search.Applied {
		t.Fatalf("first put: %v", st)
	}
	if st := put(t, ix, "a", 1, "one"); st != search.Stale {
		t.Fatalf("older put: %v, want Stale", st)
	}
	if hit := get(t, ix, "a"); hit == nil || hit.Revision != 2 || !strings.Contains(string(hit.Source), "two") {
		t.Fatalf("after stale write: %+v", hit)
	}
	if st := put(t, ix, "a", 2, "two again"); st != search.Applied {
		t.Fatalf("equal revision (external_gte): %v, want Applied", st)
	}
	if st := put(t, ix, "a", 3, "three"); st != search.Applied {
		t.Fatalf("newer put: %v", st)
	}
	if st, err := ix.Delete(ctx, "a", 2, search.Refresh()); err != nil || st != search.Stale {
		t.Fatalf("older delete: %v %v, want Stale", st, err)
	}
	if hit := get(t, ix, "a"); hit == nil || hit.Revision != 3 {
		t.Fatalf("older delete removed the document: %+v", hit)
	}
	if st, err := ix.Delete(ctx, "a", 4, search.Refresh()); err != nil || st != search.Applied {
		t.Fatalf("delete: %v %v", st, err)
	}
	if hit := get(t, ix, "a"); hit != nil {
		t.Fatalf("deleted document still found: %+v", hit)
	}
	// a late older write must not resurrect the document (tombstone)
	if st := put(t, ix, "a", 3, "late"); st != search.Stale {
		t.Fatalf("late write after delete: %v, want Stale", st)
	}
	if hit := get(t, ix, "a"); hit != nil {
		t.Fatalf("late older write resurrected the document: %+v", hit)
	}
	if st := put(t, ix, "a", 5, "undeleted"); st != search.Applied {
		t.Fatalf("newer write after delete: %v", st)
	}
	if hit := get(t, ix, "a"); hit == nil || hit.Revision != 5 {
		t.Fatalf("after undelete: %+v", hit)
	}
	// deleting a never-indexed id records a tombstone
	if st, err := ix.Delete(ctx, "ghost", 7, search.Refresh()); err != nil || st != search.Applied {
		t.Fatalf("delete missing: %v %v", st, err)
	}
	if st := put(t, ix, "ghost", 6, "boo"); st != search.Stale {
		t.Fatalf("write older than the tombstone of a never-indexed id: %v, want Stale", st)
	}
	if _, err := ix.Put(ctx, search.Document{ID: "bad", Revision: 1, Source: []byte(`[1,2]`)}); !errors.Is(err, search.ErrInvalid) {
		t.Fatalf("non-object source: %v, want ErrInvalid", err)
	}
}

func testBulkPerItem(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, err := h.NewEngine(t).CreateIndex(ctx, "bulk", TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ix, "x", 10, "ten")
	ops := []search.Op{
		{Kind: search.OpIndex, ID: "a", Revision: 1, Source: []byte(`{"id":"a","title":"first"}`)},
		{Kind: search.OpIndex, ID: "x", Revision: 9, Source: []byte(`{"id":"x","title":"stale"}`)},
		{Kind: search.OpIndex, ID: "bad", Revision: 1, Source: []byte(`{"id":"bad","year":"not a number"}`)},
		{Kind: search.OpIndex, ID: "b", Revision: 1, Source: []byte(`{"id":"b","title":"second"}`)},
		{Kind: search.OpIndex, ID: "a", Revision: 2, Source: []byte(`{"id":"a","title":"first v2"}`)},
		{Kind: search.OpDelete, ID: "b", Revision: 2},
	}
	rs, err := ix.Bulk(ctx, ops)
	if err != nil {
		t.Fatal(err)
	}
	wantSt := []search.Status{search.Applied, search.Stale, search.Failed, search.Applied, search.Applied, search.Applied}
	for i, r := range rs {
		if r.ID != ops[i].ID || r.Status != wantSt[i] {
			t.Errorf("item %d (%s): %v %q, want %v", i, ops[i].ID, r.Status, r.Reason, wantSt[i])
		}
	}
	if rs[2].Reason == "" {
		t.Errorf("failed item has no reason")
	}
	if err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if hit := get(t, ix, "a"); hit == nil || hit.Revision != 2 || !strings.Contains(string(hit.Source), "v2") {
		t.Fatalf("a: %+v", hit)
	}
	if hit := get(t, ix, "b"); hit != nil {
		t.Fatalf("b should be deleted: %+v", hit)
	}
	if hit := get(t, ix, "x"); hit == nil || hit.Revision != 10 {
		t.Fatalf("x: %+v", hit)
	}
	if hit := get(t, ix, "bad"); hit != nil {
		t.Fatalf("bad was indexed: %+v", hit)
	}
}

func testConcurrentRevisions(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, err := h.NewEngine(t).CreateIndex(ctx, "conc", TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 1; r <= 20; r++ {
				rev := int64((r*7+w*13)%40 + 1)
				for _, id := range []string{"p", "q"} {
					if _, err := ix.Put(ctx, search.Document{ID: id, Revision: rev, Source: []byte(fmt.Sprintf(`{"id":%q,"year":%d}`, id, rev))}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	var max int64
	for w := 0; w < 4; w++ {
		for r := 1; r <= 20; r++ {
			max = maxI(max, int64((r*7+w*13)%40+1))
		}
	}
	for _, id := range []string{"p", "q"} {
		if hit := get(t, ix, id); hit == nil || hit.Revision != max || !strings.Contains(string(hit.Source), fmt.Sprintf(`"year":%d`, max)) {
			t.Fatalf("%s: %+v, want revision %d", id, hit, max)
		}
	}
}

func maxI(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func run(t *testing.T, s *search.Searcher, r *search.Request) *search.Results {
	t.Helper()
	res, err := s.Search(ctxT(t), r)
	if err != nil {
		t.Fatalf("search %+v: %v", r, err)
	}
	return res
}

func testQueries(t *testing.T, h Harness) {
	ix, docs := seeded(t, h, 50)
	s := NewSearcherT(t, ix, Config())
	has := func(text, w string) bool {
		return slices.Contains(strings.Fields(strings.ToLower(text)), w)
	}
	cases := []struct {
		q    string
		pred func(TestDoc) bool
	}{
		{"", func(TestDoc) bool { return true }},
		{"gamma", func(d TestDoc) bool { return has(d.Title, "gamma") || has(d.Desc, "gamma") }},
		{"GAMMA", func(d TestDoc) bool { return has(d.Title, "gamma") || has(d.Desc, "gamma") }},
		{"title:gamma", func(d TestDoc) bool { return has(d.Title, "gamma") }},
		{`title:"gamma beta"`, func(d TestDoc) bool { return strings.Contains(strings.ToLower(d.Title), "gamma beta") }},
		{`"beta gamma"`, func(d TestDoc) bool { return strings.Contains(strings.ToLower(d.Title), "beta gamma") }},
		// an unqualified phrase searches the default fields indexed with
		// positions (title), not description (index_options freqs)
		{`"about beta"`, func(d TestDoc) bool { return false }},
		{"title:gamma AND type:dataset", func(d TestDoc) bool { return has(d.Title, "gamma") && d.Type == "dataset" }},
		{"title:gamma type:dataset", func(d TestDoc) bool { return has(d.Title, "gamma") && d.Type == "dataset" }},
		{"title:gamma OR title:delta", func(d TestDoc) bool { return has(d.Title, "gamma") || has(d.Title, "delta") }},
		{"type:software AND NOT subtype:tool", func(d TestDoc) bool { return d.Type == "software" && d.Subtype != "tool" }},
		{"type:software -subtype:tool", func(d TestDoc) bool { return d.Type == "software" && d.Subtype != "tool" }},
		{"+type:software !subtype:tool", func(d TestDoc) bool { return d.Type == "software" && d.Subtype != "tool" }},
		{"-type:software", func(d TestDoc) bool { return d.Type != "software" }},
		{"(title:alpha OR title:beta) AND access:restricted", func(d TestDoc) bool {
			return (has(d.Title, "alpha") || has(d.Title, "beta")) && d.Access == "restricted"
		}},
		{"type:(dataset OR software)", func(d TestDoc) bool { return d.Type == "dataset" || d.Type == "software" }},
		{"year:[2003 TO 2005]", func(d TestDoc) bool { return d.Year >= 2003 && d.Year <= 2005 }},
		{"year:{2003 TO 2005]", func(d TestDoc) bool { return d.Year > 2003 && d.Year <= 2005 }},
		{"year:[2007 TO *]", func(d TestDoc) bool { return d.Year >= 2007 }},
		{"year:2004", func(d TestDoc) bool { return d.Year == 2004 }},
		{"created:[2020-02-01 TO 2020-02-15}", func(d TestDoc) bool {
			return !d.Created.Before(time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)) && d.Created.Before(time.Date(2020, 2, 15, 0, 0, 0, 0, time.UTC))
		}},
		{"created:2020-01-04", func(d TestDoc) bool { return d.Created.Format("2006-01-02") == "2020-01-04" }},
		{"subtype:[book TO tabular]", func(d TestDoc) bool { return d.Subtype >= "book" && d.Subtype <= "tabular" }},
		{"subtype:t*", func(d TestDoc) bool { return strings.HasPrefix(d.Subtype, "t") }},
		{"subtype:t??l", func(d TestDoc) bool { return regexp.MustCompile(`^t..l$`).MatchString(d.Subtype) }},
		{"title:gam*", func(d TestDoc) bool { return has(d.Title, "gamma") }},
		{"creator:creator-2", func(d TestDoc) bool { return d.Metadata.Creator == "creator-2" }},
		{"open:true", func(d TestDoc) bool { return d.Open }},
		{"title:report AND year:2001", func(d TestDoc) bool { return d.Year == 2001 }},
	}
	for _, c := range cases {
		res := run(t, s, &search.Request{Q: c.q, Size: 50})
		w := want(docs, c.pred)
		if len(w) > 50 {
			t.Fatalf("case %q matches too much for the test", c.q)
		}
		if got := sortedIDs(res); !slices.Equal(got, w) {
			t.Errorf("q=%q: got %d %v\nwant %d %v", c.q, len(got), got, len(w), w)
		}
		if res.Total != int64(len(w)) {
			t.Errorf("q=%q: total %d, want %d", c.q, res.Total, len(w))
		}
		for _, hit := range res.Hits {
			if hit.Revision != 1 || len(hit.Source) == 0 || !strings.Contains(string(hit.Source), hit.ID) {
				t.Errorf("q=%q: hit %s lacks revision/source: %d %s", c.q, hit.ID, hit.Revision, hit.Source)
				break
			}
		}
	}
	// best match: a document matching both terms ranks above one matching one
	res := run(t, s, &search.Request{Q: "gamma OR report", Size: 50})
	if len(res.Hits) == 0 || !strings.Contains(strings.ToLower(string(res.Hits[0].Source)), "gamma") {
		t.Errorf("bestmatch: first hit %s does not match gamma", res.Hits[0].Source)
	}
}

func testBadQueries(t *testing.T, h Harness) {
	ix, _ := seeded(t, h, 3)
	s := NewSearcherT(t, ix, Config())
	for _, c := range []struct {
		q   string
		pos int
	}{
		{"secret:s3cret", 0}, {"metadata.secret:x", 0}, {"title:(a", 8}, {`"open phrase`, 0},
		{"a AND", 5}, {"OR b", 0}, {"year:abc", 5}, {"year:[1 TO", 10}, {"title:[a TO b]", 6},
		{"a ) b", 2}, {"open:maybe", 5}, {`description:"about alpha"`, 12}, {`title:x OR description:"a b"~2`, 23},
	} {
		_, err := s.Search(ctxT(t), &search.Request{Q: c.q})
		var qe *search.QueryError
		if !errors.Is(err, search.ErrBadQuery) || !errors.As(err, &qe) {
			t.Errorf("q=%q: %v, want ErrBadQuery", c.q, err)
			continue
		}
		if qe.Pos != c.pos {
			t.Errorf("q=%q: position %d, want %d (%v)", c.q, qe.Pos, c.pos, err)
		}
	}
	for _, r := range []*search.Request{
		{Sort: "nonsense"}, {Size: 51}, {Page: 6, Size: 10}, {After: "!!"}, {Facets: map[string][]string{"nope": {"x"}}},
	} {
		if _, err := s.Search(ctxT(t), r); !errors.Is(err, search.ErrBadQuery) {
			t.Errorf("request %+v: %v, want ErrBadQuery", r, err)
		}
	}
	v := url.Values{"q": {"x"}, "page": {"-1"}}
	if _, err := search.RequestFromValues(v); !errors.Is(err, search.ErrBadQuery) {
		t.Errorf("page=-1: %v", err)
	}
}

func counts(fr *search.FacetResult) map[string]int64 {
	m := map[string]int64{}
	if fr == nil {
		return m
	}
	for _, b := range fr.Buckets {
		m[b.Key] = b.Count
	}
	return m
}

func countBy(docs []TestDoc, pred func(TestDoc) bool, key func(TestDoc) string) map[string]int64 {
	m := map[string]int64{}
	for _, d := range docs {
		if pred(d) {
			m[key(d)]++
		}
	}
	return m
}

func eqCounts(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", what, got, want)
			return
		}
	}
}

func testFacets(t *testing.T, h Harness) {
	ix, docs := seeded(t, h, 60)
	s := NewSearcherT(t, ix, Config())
	all := func(TestDoc) bool { return true }
	typ := func(d TestDoc) string { return d.Type }
	acc := func(d TestDoc) string { return d.Access }
	cre := func(d TestDoc) string { return d.Metadata.Creator }

	res := run(t, s, &search.Request{Size: 50})
	eqCounts(t, "type", counts(res.Facets["type"]), countBy(docs, all, typ))
	eqCounts(t, "access", counts(res.Facets["access"]), countBy(docs, all, acc))
	eqCounts(t, "creator", counts(res.Facets["creator"]), countBy(docs, all, cre))
	for _, b := range res.Facets["type"].Buckets {
		eqCounts(t, "type::"+b.Key, counts(b.Sub), countBy(docs, func(d TestDoc) bool { return d.Type == b.Key }, func(d TestDoc) string { return d.Subtype }))
	}
	// buckets ordered by count desc
	bs := res.Facets["creator"].Buckets
	for i := 1; i < len(bs); i++ {
		if bs[i].Count > bs[i-1].Count {
			t.Errorf("creator buckets not ordered by count: %+v", bs)
		}
	}

	// facet filters: post_filter for hits; a facet keeps counts over the
	// other facets' filters only
	r := &search.Request{Size: 50, Facets: map[string][]string{"type": {"dataset", "software"}, "access": {"public"}}}
	res = run(t, s, r)
	sel := func(d TestDoc) bool { return (d.Type == "dataset" || d.Type == "software") && d.Access == "public" }
	if got, w := sortedIDs(res), want(docs, sel); !slices.Equal(got, w) {
		t.Errorf("facet-filtered hits: got %v, want %v", got, w)
	}
	if res.Total != int64(len(want(docs, sel))) {
		t.Errorf("facet-filtered total %d", res.Total)
	}
	eqCounts(t, "type (filtered by access)", counts(res.Facets["type"]), countBy(docs, func(d TestDoc) bool { return d.Access == "public" }, typ))
	eqCounts(t, "access (filtered by type)", counts(res.Facets["access"]), countBy(docs, func(d TestDoc) bool { return d.Type == "dataset" || d.Type == "software" }, acc))
	eqCounts(t, "creator (filtered by both)", counts(res.Facets["creator"]), countBy(docs, sel, cre))

	// hierarchical filter value parent::child
	res = run(t, s, &search.Request{Size: 50, Q: "report", Facets: map[string][]string{"type": {"publication::thesis"}}})
	if got, w := sortedIDs(res), want(docs, func(d TestDoc) bool { return d.Type == "publication" && d.Subtype == "thesis" }); !slices.Equal(got, w) || len(w) == 0 {
		t.Errorf("type=publication::thesis: got %v, want %v", got, w)
	}
	eqCounts(t, "type with own filter", counts(res.Facets["type"]), countBy(docs, all, typ))

	// facet filters from URL parameters
	req, err := search.RequestFromValues(url.Values{"q": {"title:alpha"}, "access": {"restricted"}, "ignored": {"x"}}, s.FacetNames()...)
	if err != nil {
		t.Fatal(err)
	}
	res = run(t, s, req)
	if got, w := sortedIDs(res), want(docs, func(d TestDoc) bool {
		return slices.Contains(strings.Fields(strings.ToLower(d.Title)), "alpha") && d.Access == "restricted"
	}); !slices.Equal(got, w) {
		t.Errorf("URL facet filter: got %v, want %v", got, w)
	}
}

func testSortAndPages(t *testing.T, h Harness) {
	ix, docs := seeded(t, h, 30)
	s := NewSearcherT(t, ix, Config())
	byCreated := append([]TestDoc(nil), docs...)
	sort.Slice(byCreated, func(i, j int) bool { return byCreated[i].Created.Before(byCreated[j].Created) })
	var oldest, newest []string
	for _, d := range byCreated {
		oldest = append(oldest, d.ID)
	}
	for i := len(oldest) - 1; i >= 0; i-- {
		newest = append(newest, oldest[i])
	}
	// default without query: newest
	if got := ids(run(t, s, &search.Request{Size: 30})); !slices.Equal(got, newest) {
		t.Errorf("default sort: got %v, want newest %v", got, newest)
	}
	if got := ids(run(t, s, &search.Request{Size: 30, Sort: "oldest"})); !slices.Equal(got, oldest) {
		t.Errorf("oldest: got %v", got)
	}
	// custom: year asc then created desc
	byYear := append([]TestDoc(nil), docs...)
	sort.SliceStable(byYear, func(i, j int) bool {
		if byYear[i].Year != byYear[j].Year {
			return byYear[i].Year < byYear[j].Year
		}
		return byYear[i].Created.After(byYear[j].Created)
	})
	var wy []string
	for _, d := range byYear {
		wy = append(wy, d.ID)
	}
	if got := ids(run(t, s, &search.Request{Size: 30, Sort: "year"})); !slices.Equal(got, wy) {
		t.Errorf("custom sort: got %v, want %v", got, wy)
	}
	// pages
	var paged []string
	for p := 1; p <= 4; p++ {
		res := run(t, s, &search.Request{Page: p, Size: 8, Sort: "oldest"})
		if res.Total != 30 {
			t.Fatalf("page %d total %d", p, res.Total)
		}
		paged = append(paged, ids(res)...)
	}
	if !slices.Equal(paged, oldest) {
		t.Errorf("pages: got %v", paged)
	}
	if _, err := s.Search(ctxT(t), &search.Request{Page: 7, Size: 8}); !errors.Is(err, search.ErrBadQuery) {
		t.Errorf("page beyond max result window: %v", err)
	}
}

func testSearchAfter(t *testing.T, h Harness) {
	ix, docs := seeded(t, h, 55)
	s := NewSearcherT(t, ix, Config())
	for _, so := range []string{"oldest", "year", "bestmatch"} {
		q := ""
		if so == "bestmatch" {
			q = "report"
		}
		seen := map[string]bool{}
		var order []string
		cur := ""
		for i := 0; i < 20; i++ {
			res := run(t, s, &search.Request{Q: q, Size: 7, Sort: so, After: cur})
			if len(res.Hits) == 0 {
				break
			}
			for _, hit := range res.Hits {
				if seen[hit.ID] {
					t.Fatalf("%s: %s seen twice", so, hit.ID)
				}
				seen[hit.ID] = true
				order = append(order, hit.ID)
			}
			if res.Next == "" {
				t.Fatalf("%s: no cursor", so)
			}
			cur = res.Next
		}
		if len(seen) != len(docs) {
			t.Fatalf("%s: search_after walked %d of %d docs (beyond the 50 result window)", so, len(seen), len(docs))
		}
		if so == "oldest" {
			var w []string
			for _, d := range docs { // seed docs are created in order
				w = append(w, d.ID)
			}
			if !slices.Equal(order, w) {
				t.Errorf("oldest walk order: %v", order)
			}
		}
	}
	// a point in time works where supported, and is a clear ErrUnsupported
	// elsewhere (never silently ignored)
	if h.PIT {
		if res := run(t, s, &search.Request{Size: 3, Sort: "oldest", PIT: true}); len(res.Hits) != 3 {
			t.Errorf("PIT request: %d hits", len(res.Hits))
		}
	} else if _, err := s.Search(ctxT(t), &search.Request{Size: 3, Sort: "oldest", PIT: true}); !errors.Is(err, search.ErrUnsupported) {
		t.Errorf("PIT on an engine without it: %v, want ErrUnsupported", err)
	}
	// a cursor of another sort, or of another query, is rejected — also
	// when the sorts have the same number of values (oldest/newest)
	res := run(t, s, &search.Request{Size: 2, Sort: "oldest"})
	for _, r := range []*search.Request{
		{Size: 2, Sort: "year", After: res.Next},
		{Size: 2, Sort: "newest", After: res.Next},
		{Size: 2, Sort: "oldest", Q: "alpha", After: res.Next},
		{Size: 2, Sort: "oldest", Facets: map[string][]string{"access": {"public"}}, After: res.Next},
	} {
		if _, err := s.Search(ctxT(t), r); !errors.Is(err, search.ErrBadQuery) {
			t.Errorf("cursor of oldest/no query used with sort %s q %q facets %v: %v, want ErrBadQuery", r.Sort, r.Q, r.Facets, err)
		}
	}
	// the same sort and query go on, without facets by default on cursor
	// pages; facets can be asked for, or turned off on a first page
	next := run(t, s, &search.Request{Size: 2, Sort: "oldest", After: res.Next})
	if len(next.Hits) != 2 || next.Hits[0].ID == res.Hits[0].ID || len(next.Facets) != 0 {
		t.Errorf("cursor page: %v, facets %v", ids(next), next.Facets)
	}
	on, off := true, false
	if p := run(t, s, &search.Request{Size: 2, Sort: "oldest", After: res.Next, WithFacets: &on}); len(p.Facets["type"].Buckets) == 0 {
		t.Errorf("cursor page with facets asked: %v", p.Facets)
	}
	if len(res.Facets["type"].Buckets) == 0 {
		t.Errorf("first page without facets: %v", res.Facets)
	}
	if p := run(t, s, &search.Request{Size: 2, Sort: "oldest", WithFacets: &off}); len(p.Facets) != 0 || len(p.Hits) != 2 {
		t.Errorf("first page with facets off: %v", p.Facets)
	}
}

type callerKey struct{}

func testPermission(t *testing.T, h Harness) {
	ix, docs := seeded(t, h, 30)
	cfg := Config()
	cfg.Permission = func(ctx context.Context) (search.Query, error) {
		switch ctx.Value(callerKey{}) {
		case "admin":
			return nil, nil
		case nil:
			return nil, errors.New("no caller")
		}
		return search.Term{Field: "access", Value: "public"}, nil
	}
	s := NewSearcherT(t, ix, cfg)
	ctx := context.WithValue(ctxT(t), callerKey{}, "anon")
	res, err := s.Search(ctx, &search.Request{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	if got, w := sortedIDs(res), want(docs, func(d TestDoc) bool { return d.Access == "public" }); !slices.Equal(got, w) {
		t.Errorf("anon: %v want %v", got, w)
	}
	if counts(res.Facets["access"])["restricted"] != 0 {
		t.Errorf("facets leak restricted documents: %v", counts(res.Facets["access"]))
	}
	res, err = s.Search(context.WithValue(ctxT(t), callerKey{}, "admin"), &search.Request{Size: 50})
	if err != nil || res.Total != 30 {
		t.Fatalf("admin: %v %v", res, err)
	}
	if _, err := s.Search(ctxT(t), &search.Request{}); err == nil {
		t.Fatal("permission error ignored")
	}
}

func testRefs(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, err := h.NewEngine(t).CreateIndex(ctx, "refs", TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	var ops []search.Op
	wantRefs := map[string]int64{}
	for i := 0; i < 2500; i++ {
		id := fmt.Sprintf("%08x-id", (i*7919)%100000)
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: id, Revision: int64(i%5 + 1), Source: []byte(`{"year":1}`)})
		wantRefs[id] = int64(i%5 + 1)
	}
	ops = append(ops, search.Op{Kind: search.OpDelete, ID: ops[3].ID, Revision: 9})
	delete(wantRefs, ops[3].ID)
	if _, err := ix.Bulk(ctx, ops, search.Refresh()); err != nil {
		t.Fatal(err)
	}
	// a run of tombstones longer than a page of refs (1000) in id order:
	// the walk must go past it, not stop at a short page
	ids := slices.Sorted(maps.Keys(wantRefs))
	var dels []search.Op
	for _, id := range ids[500:1700] {
		dels = append(dels, search.Op{Kind: search.OpDelete, ID: id, Revision: 9})
		delete(wantRefs, id)
	}
	if _, err := ix.Bulk(ctx, dels, search.Refresh()); err != nil {
		t.Fatal(err)
	}
	prev := ""
	n := 0
	for r, err := range ix.Refs(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID <= prev {
			t.Fatalf("refs out of order: %s after %s", r.ID, prev)
		}
		prev = r.ID
		if w, ok := wantRefs[r.ID]; !ok || w != r.Revision {
			t.Fatalf("ref %+v, want revision %d (present %v)", r, w, ok)
		}
		n++
	}
	if n != len(wantRefs) {
		t.Fatalf("refs: %d, want %d", n, len(wantRefs))
	}
}

func testUpdateMapping(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, docs := seeded(t, h, 6)
	_ = docs
	next := search.Definition{Mappings: []byte(strings.Replace(string(TestDefinition.Mappings), `"id": {"type": "keyword"},`, `"id": {"type": "keyword"}, "language": {"type": "keyword"},`, 1)), Settings: TestDefinition.Settings}
	if err := ix.UpdateMapping(ctx, next); err != nil {
		t.Fatal(err)
	}
	if f, ok := ix.Field("language"); !ok || f.Type != search.Keyword {
		t.Fatal("new field missing")
	}
	if _, err := ix.Put(ctx, search.Document{ID: "new", Revision: 1, Source: []byte(`{"id":"new","language":"eng"}`)}, search.Refresh()); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Query(ctx, &search.Spec{Query: search.Term{Field: "language", Value: "eng"}, Size: 10})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != "new" {
		t.Fatalf("query on added field: %v %v", res, err)
	}
	reopened, err := ix.Engine().OpenIndex(ctx, ix.Name())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reopened.Field("language"); !ok {
		t.Fatal("added field not persisted")
	}
	bad := search.Definition{Mappings: []byte(strings.Replace(string(TestDefinition.Mappings), `"year": {"type": "integer"}`, `"year": {"type": "keyword"}`, 1))}
	if err := ix.UpdateMapping(ctx, bad); !errors.Is(err, search.ErrInvalid) {
		t.Fatalf("type change: %v, want ErrInvalid", err)
	}
}

func testReindex(t *testing.T, h Harness) {
	ctx := ctxT(t)
	ix, docs := seeded(t, h, 1100)
	if _, err := ix.Put(ctx, search.Document{ID: docs[0].ID, Revision: 7, Source: docs[0].Source()}, search.Refresh()); err != nil {
		t.Fatal(err)
	}
	old, _ := ix.Engine().Driver().Resolve(ctx, ix.Alias())
	// "year" becomes a keyword: not additive, needs a reindex
	next := search.Definition{Mappings: []byte(strings.Replace(string(TestDefinition.Mappings), `"year": {"type": "integer"}`, `"year": {"type": "keyword"}`, 1)), Settings: TestDefinition.Settings}
	var last search.Progress
	calls := 0
	// zero downtime: searches running through the whole reindex all succeed
	// and all see every document
	stop := make(chan struct{})
	searched := make(chan int)
	go func() {
		n := 0
		defer func() { searched <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := ix.Query(ctx, &search.Spec{Query: search.MatchAll{}, Size: 1, TrackTotal: true})
			if err != nil {
				t.Errorf("search during reindex: %v", err)
				return
			}
			if res.Total != 1100 {
				t.Errorf("search during reindex saw %d documents, want 1100", res.Total)
				return
			}
			n++
		}
	}()
	// a writer that resolved the alias before the switch writes to the old
	// index during the copy, after the copy read the document: the
	// catch-up must carry the newer revision over
	bumped := docs[1]
	for _, d := range docs[1:] {
		if d.ID < bumped.ID {
			bumped = d
		}
	}
	var bumpErr error
	err := ix.Reindex(ctx, next, search.OnProgress(func(p search.Progress) {
		calls++
		if p.Phase == "copy" {
			if last.Done == 0 {
				_, bumpErr = ix.Engine().Driver().Bulk(ctx, old[0], []search.Op{{Kind: search.OpIndex, ID: bumped.ID, Revision: 9, Source: bumped.Source()}}, true)
			}
			last = p
		}
	}))
	if bumpErr != nil {
		t.Fatal(bumpErr)
	}
	close(stop)
	if n := <-searched; n == 0 && !t.Failed() {
		t.Error("no search ran during the reindex")
	}
	if err != nil {
		t.Fatal(err)
	}
	if last.Done != 1100 || last.Total != 1100 || calls < 3 {
		t.Fatalf("progress: last %+v after %d calls", last, calls)
	}
	now, _ := ix.Engine().Driver().Resolve(ctx, ix.Alias())
	if len(now) != 1 || now[0] == old[0] {
		t.Fatalf("alias not switched: %v → %v", old, now)
	}
	if ok, _ := ix.Engine().Driver().Exists(ctx, old[0]); ok {
		t.Fatalf("old index %s kept", old[0])
	}
	if f, _ := ix.Field("year"); f.Type != search.Keyword {
		t.Fatalf("definition not switched: %+v", f)
	}
	res, err := ix.Query(ctx, &search.Spec{Query: search.Term{Field: "year", Value: "2003"}, Size: 0, TrackTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := len(want(docs, func(d TestDoc) bool { return d.Year == 2003 })); res.Total != int64(w) {
		t.Fatalf("year as keyword after reindex: %d, want %d", res.Total, w)
	}
	if hit := get(t, ix, docs[0].ID); hit == nil || hit.Revision != 7 {
		t.Fatalf("revision lost in reindex: %+v", hit)
	}
	if hit := get(t, ix, bumped.ID); hit == nil || hit.Revision != 9 {
		t.Fatalf("write to the old index during the copy not caught up: %+v", hit)
	}
	// versions still enforced in the new index
	if st, _ := ix.Put(ctx, search.Document{ID: docs[0].ID, Revision: 6, Source: docs[0].Source()}); st != search.Stale {
		t.Fatalf("older write after reindex: %v", st)
	}
}

func testPIT(t *testing.T, h Harness) {
	ix, docs := seeded(t, h, 20)
	s := NewSearcherT(t, ix, Config())
	res := run(t, s, &search.Request{Size: 5, Sort: "oldest", PIT: true})
	if res.PIT == "" {
		t.Fatal("no point in time id")
	}
	// a document added after the PIT opened is not seen by the cursor walk
	if _, err := ix.Put(ctxT(t), search.Document{ID: "zzz-late", Revision: 1, Source: SeedDocs(1)[0].Source()}, search.Refresh()); err != nil {
		t.Fatal(err)
	}
	n := len(res.Hits)
	for res.Next != "" && len(res.Hits) > 0 {
		res = run(t, s, &search.Request{Size: 5, Sort: "oldest", After: res.Next})
		for _, h := range res.Hits {
			if h.ID == "zzz-late" {
				t.Fatal("point in time sees a later write")
			}
		}
		n += len(res.Hits)
	}
	if n != len(docs) {
		t.Fatalf("PIT walk saw %d docs, want %d", n, len(docs))
	}
}

// NewSearcherT returns a Searcher or fails the test.
func NewSearcherT(t testing.TB, ix *search.Index, cfg search.SearchConfig) *search.Searcher {
	t.Helper()
	s, err := search.NewSearcher(ix, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
