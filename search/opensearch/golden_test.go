package opensearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/opensearch"
	"github.com/repokit/repokit/search/opensearch/osfake"
	"github.com/repokit/repokit/search/searchtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the requests the driver sends")

type goldenReq struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Query  string          `json:"query,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	NDJSON []any           `json:"ndjson,omitempty"`
}

func toGolden(r osfake.Request) goldenReq {
	g := goldenReq{Method: r.Method, Path: r.Path, Query: r.Query}
	if strings.HasSuffix(r.Path, "/_bulk") {
		for _, line := range bytes.Split(bytes.TrimSpace(r.Body), []byte("\n")) {
			var v any
			_ = json.Unmarshal(line, &v)
			g.NDJSON = append(g.NDJSON, v)
		}
	} else if len(r.Body) > 0 {
		var v any
		if err := json.Unmarshal(r.Body, &v); err == nil {
			g.Body, _ = json.Marshal(v) // canonical key order
		} else {
			g.Body = r.Body
		}
	}
	return g
}

func checkGolden(t *testing.T, name string, reqs []osfake.Request) {
	t.Helper()
	var gs []goldenReq
	for _, r := range reqs {
		gs = append(gs, toGolden(r))
	}
	got, err := json.MarshalIndent(gs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("requests for %s differ from %s (rerun with -update if intended)\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// TestGolden pins the exact requests (method, path, parameters, body) the
// driver sends for each operation.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	srv := osfake.New()
	defer srv.Close()
	u, _ := url.Parse(strings.Replace(srv.URL(), "http://", "opensearch://", 1))
	d, err := opensearch.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	step := func(name string, fn func() error) {
		t.Helper()
		srv.Record(true)
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		reqs := srv.Requests()
		srv.Record(false)
		checkGolden(t, name, reqs)
	}
	step("create_index", func() error { return d.CreateIndex(ctx, "app-records-1700000000", searchtest.TestDefinition) })
	step("switch_alias", func() error { return d.SwitchAlias(ctx, "app-records", "app-records-1700000000") })
	docs := searchtest.SeedDocs(3)
	step("bulk", func() error {
		_, err := d.Bulk(ctx, "app-records", []search.Op{
			{Kind: search.OpIndex, ID: docs[0].ID, Revision: 3, Source: docs[0].Source()},
			{Kind: search.OpIndex, ID: docs[1].ID, Revision: 0, Source: docs[1].Source()},
			{Kind: search.OpDelete, ID: docs[2].ID, Revision: 5},
		}, true)
		return err
	})
	step("put_mapping", func() error {
		return d.PutMapping(ctx, "app-records-1700000000", search.Definition{Mappings: json.RawMessage(`{"properties":{"language":{"type":"keyword"}}}`)})
	})
	e, err := search.New(ctx, d, search.WithPrefix("app-"))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := e.OpenIndex(ctx, "records")
	if err != nil {
		t.Fatal(err)
	}
	s := searchtest.NewSearcherT(t, ix, searchtest.Config())
	step("search_facets", func() error {
		_, err := s.Search(ctx, &search.Request{Q: `title:(alpha OR "beta gamma") -type:dataset year:[2001 TO *]`, Size: 10, Page: 2,
			Facets: map[string][]string{"type": {"publication::thesis", "software"}, "access": {"public"}}})
		return err
	})
	res, err := s.Search(ctx, &search.Request{Size: 1, Sort: "year"})
	if err != nil || res.Next == "" {
		t.Fatalf("cursor: %v %v", res, err)
	}
	step("search_after", func() error {
		_, err := s.Search(ctx, &search.Request{Size: 1, Sort: "year", After: res.Next})
		return err
	})
	step("refs", func() error {
		_, err := d.Refs(ctx, "app-records", "doc-000", 1000)
		return err
	})
	step("point_in_time", func() error {
		id, err := d.OpenPIT(ctx, "app-records", "1m")
		if err != nil {
			return err
		}
		return d.ClosePIT(ctx, id)
	})
}

// TestFakeRefreshVisibility checks that the fake (and so the driver's use of
// refresh) hides writes until a refresh, as OpenSearch does.
func TestFakeRefreshVisibility(t *testing.T) {
	ctx := context.Background()
	srv := osfake.New()
	srv.RefreshInterval = -1 // no periodic refresh: visibility only on refresh
	defer srv.Close()
	e, err := search.Open(ctx, strings.Replace(srv.URL(), "http://", "opensearch://", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ix, err := e.CreateIndex(ctx, "vis", searchtest.TestDefinition)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		res, err := ix.Query(ctx, &search.Spec{Query: search.MatchAll{}, TrackTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	if _, err := ix.Put(ctx, search.Document{ID: "a", Revision: 1, Source: []byte(`{"id":"a"}`)}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("write visible before refresh: %d", n)
	}
	if err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("after refresh: %d", n)
	}
	if _, err := ix.Delete(ctx, "a", 2); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("delete visible before refresh: %d", n)
	}
	if _, err := ix.Put(ctx, search.Document{ID: "b", Revision: 1, Source: []byte(`{"id":"b"}`)}, search.Refresh()); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 { // b visible, a's delete refreshed too
		t.Fatalf("after refresh=wait_for: %d", n)
	}
}

// TestTLSAndAuth opens the driver over HTTPS with tls_insecure and checks
// that wrong credentials are refused.
func TestTLSAndAuth(t *testing.T) {
	ctx := context.Background()
	srv := osfake.NewTLS()
	srv.Username, srv.Password = "admin", "pw"
	defer srv.Close()
	base := strings.Replace(srv.URL(), "https://", "opensearchs://", 1)
	e, err := search.Open(ctx, base+"?user=admin&password=pw&tls_insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateIndex(ctx, "tls", searchtest.TestDefinition); err != nil {
		t.Fatal(err)
	}
	bad, err := search.Open(ctx, base+"?user=admin&password=wrong&tls_insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.IndexExists(ctx, "tls"); err == nil {
		// HEAD has no body: a 401 must still not read as "exists"
		if ok, _ := bad.IndexExists(ctx, "tls"); ok {
			t.Fatal("wrong password accepted")
		}
	}
	if _, err := bad.OpenIndex(ctx, "tls"); err == nil {
		t.Fatal("wrong password accepted")
	}
	strict, err := search.Open(ctx, base+"?user=admin&password=pw")
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	if _, err := strict.OpenIndex(ctx, "tls"); err == nil {
		t.Fatal("self-signed certificate accepted without tls_insecure")
	}
}
