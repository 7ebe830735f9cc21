package opensearch_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/repokit/repokit/search"
)

// TestRefusalIsBadQuery: the engine refusing a query (400, e.g. too many
// clauses) is ErrBadQuery with a *QueryError, without the engine's reason
// in the message; partial results are never accepted.
func TestRefusalIsBadQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/_mapping"):
			w.Write([]byte(`{"app-x-1": {"mappings": {"properties": {"title": {"type": "text"}}}}}`))
		case strings.HasSuffix(r.URL.Path, "/_search"):
			if r.URL.Query().Get("allow_partial_search_results") != "false" {
				t.Errorf("search without allow_partial_search_results=false: %s", r.URL)
			}
			w.WriteHeader(400)
			w.Write([]byte(`{"error": {"type": "too_many_clauses", "reason": "maxClauseCount is set to 1024 on index secret-internal-name"}, "status": 400}`))
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	e, err := search.Open(ctx, strings.Replace(srv.URL, "http://", "opensearch://", 1)+"?prefix=app-")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ix, err := e.OpenIndex(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ix.Query(ctx, &search.Spec{Query: search.Match{Field: "title", Text: "a"}, Size: 1})
	var qe *search.QueryError
	if !errors.Is(err, search.ErrBadQuery) || !errors.As(err, &qe) {
		t.Fatalf("refused query: %v, want ErrBadQuery", err)
	}
	if strings.Contains(err.Error(), "secret-internal-name") {
		t.Errorf("user message leaks the engine's reason: %v", err)
	}
}
