package search_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/repokit/repokit/search"
)

func TestRequestFromValues(t *testing.T) {
	v := url.Values{"q": {"title:x"}, "sort": {"newest"}, "page": {"3"}, "size": {"20"}, "pit": {"TRUE"},
		"type": {"dataset", "publication::article"}, "access": {"open"}, "other": {"ignored"}, "after": {"abc"}}
	r, err := search.RequestFromValues(v, "type", "access", "creator")
	if err != nil {
		t.Fatal(err)
	}
	want := &search.Request{Q: "title:x", Sort: "newest", Page: 3, Size: 20, PIT: true, After: "abc",
		Facets: map[string][]string{"type": {"dataset", "publication::article"}, "access": {"open"}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
	for _, bad := range []url.Values{{"page": {"0"}}, {"page": {"x"}}, {"size": {"-1"}}, {"pit": {"maybe"}}} {
		_, err := search.RequestFromValues(bad)
		var qe *search.QueryError
		if !errors.Is(err, search.ErrBadQuery) || !errors.As(err, &qe) || qe.Param == "" {
			t.Errorf("%v: %v, want ErrBadQuery naming the parameter", bad, err)
		}
	}
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	if s := search.Schemes(); !slices.Contains(s, "bleve") || !slices.Contains(s, "opensearch") || !slices.Contains(s, "opensearchs") {
		t.Fatalf("schemes %v", s)
	}
	for _, u := range []string{"nope:///x", "bleve://", "opensearch://h:9200?tls_insecure=perhaps", "opensearch://h:9200?timeout=soon", "%zz"} {
		if e, err := search.Open(ctx, u); !errors.Is(err, search.ErrInvalid) {
			if e != nil {
				e.Close()
			}
			t.Errorf("Open(%q): %v, want ErrInvalid", u, err)
		}
	}
	e, err := search.Open(ctx, "bleve://"+t.TempDir()+"?prefix=myapp-")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Prefix() != "myapp-" {
		t.Fatalf("prefix %q", e.Prefix())
	}
	e2, err := search.Open(ctx, "bleve://"+t.TempDir()+"?prefix=myapp-", search.WithPrefix("other-"))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if e2.Prefix() != "other-" {
		t.Fatalf("WithPrefix did not override the URL: %q", e2.Prefix())
	}
}

// TestBleveReopen: aliases, definitions, documents and revisions survive
// closing and reopening the bleve root directory.
func TestBleveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := search.Open(ctx, "bleve://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := e.CreateIndex(ctx, "records", recordsDef)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Put(ctx, search.Document{ID: "a", Revision: 5, Source: []byte(`{"id":"a","title":"kept"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Delete(ctx, "b", 9); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = search.Open(ctx, "bleve://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ix, err = e.OpenIndex(ctx, "records")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := ix.Field("title"); !ok || f.Type != search.Text {
		t.Fatal("definition lost")
	}
	res, err := ix.Query(ctx, &search.Spec{Query: search.Match{Field: "title", Text: "kept"}, Size: 1})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].Revision != 5 {
		t.Fatalf("document lost: %+v %v", res, err)
	}
	for _, c := range []struct {
		id  string
		rev int64
	}{{"a", 4}, {"b", 8}} {
		if st, err := ix.Put(ctx, search.Document{ID: c.id, Revision: c.rev, Source: []byte(`{}`)}); err != nil || st != search.Stale {
			t.Errorf("%s@%d after reopen: %v %v, want Stale", c.id, c.rev, st, err)
		}
	}
}
