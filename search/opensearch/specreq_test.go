package opensearch_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/opensearch/osfake"
	"github.com/repokit/repokit/search/searchtest"
)

// TestSpecRequests records every request the driver sends while the whole
// conformance suite runs against the fake, and validates each against
// OpenSearch's OpenAPI specification: a declared operation for the method
// and path, declared query parameters with valid values, and the body
// against the operation's request body schema.
func TestSpecRequests(t *testing.T) {
	api := loadSpec(t)
	srv := osfake.New()
	t.Cleanup(srv.Close)
	srv.Record(true)
	u := strings.Replace(srv.URL(), "http://", "opensearch://", 1)
	t.Run("suite", func(t *testing.T) {
		searchtest.Run(t, searchtest.Harness{NewEngine: func(t *testing.T) *search.Engine { return openURL(t, u) }, PIT: true})
	})
	reqs := srv.Requests()
	if len(reqs) < 100 {
		t.Fatalf("only %d requests recorded", len(reqs))
	}
	ops := map[string]int{}
	bad := map[string]int{}
	// every distinct request is checked; responses (large, and slow to
	// validate under -race) a few per operation, status and kind of body
	seen := map[string]bool{}
	respChecked := map[string]int{}
	for _, r := range reqs {
		op, _ := api.find(r.Method, r.Path)
		if op != nil {
			ops[op.id]++
		}
		key := r.Method + " " + r.Query + " " + string(r.Body)
		if op != nil {
			key = op.id + " " + key
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := api.check(r.Method, r.Path, r.Query, r.Body); err != nil {
			msg := err.Error()
			if bad[msg] == 0 {
				t.Errorf("request %s %s?%s does not conform: %v", r.Method, r.Path, r.Query, err)
			}
			bad[msg]++
		}
		// the fake's answer must have the shape OpenSearch's has
		rk := fmt.Sprintf("%s %s %d aggs=%v", r.Method, r.Path, r.Status, strings.Contains(string(r.Body), `"aggs"`))
		if op != nil {
			rk = fmt.Sprintf("%s %d aggs=%v", op.id, r.Status, strings.Contains(string(r.Body), `"aggs"`))
		}
		if respChecked[rk] >= 3 {
			continue
		}
		respChecked[rk]++
		if err := api.checkResponse(r.Method, r.Path, r.Status, r.Response); err != nil {
			msg := err.Error()
			if bad[msg] == 0 {
				t.Errorf("fake's response to %s %s: %v", r.Method, r.Path, err)
			}
			bad[msg]++
		}
	}
	t.Logf("%d requests (%d distinct) checked against the spec, by operation: %v; responses checked: %v", len(reqs), len(seen), ops, respChecked)
}

// TestSpecCatchesBadRequests makes sure the validation can fail.
func TestSpecCatchesBadRequests(t *testing.T) {
	api := loadSpec(t)
	for _, c := range []struct{ method, path, query, body string }{
		{"POST", "/x/_search", "", `{"size": "ten"}`},
		{"POST", "/x/_search", "", `{"track_total_hits": "lots"}`},
		{"POST", "/x/_search", "", `{"aggs": {"a": {"histogram": {"field": "f", "interval": "big"}}}}`},
		{"POST", "/x/_search", "no_such_param=1", `{}`},
		{"POST", "/x/_bulk", "", "{\"index\": {\"_id\": 1, \"version_type\": \"sometimes\"}}\n{}\n"},
		{"PATCH", "/x", "", ""},
		{"PUT", "/x", "", `{"mappings": {"dynamic": "maybe"}}`},
	} {
		if err := api.check(c.method, c.path, c.query, []byte(c.body)); err == nil {
			t.Errorf("%s %s?%s %s: accepted", c.method, c.path, c.query, c.body)
		}
	}
	for _, body := range []string{`{"hits": {"total": "many", "hits": []}}`, `{"took": "fast"}`, `{"hits": {"hits": [{"_id": 3}]}}`} {
		if err := api.checkResponse("POST", "/x/_search", 200, []byte(body)); err == nil {
			t.Errorf("search response %s: accepted", body)
		}
	}
	if err := api.checkResponse("POST", "/x/_search", 200, []byte(`{"took": 1, "timed_out": false, "_shards": {"total": 1, "successful": 1, "failed": 0}, "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": null, "hits": []}}`)); err != nil {
		t.Errorf("a valid search response was refused: %v", err)
	}
	if err := api.check("POST", "/x/_search", "", []byte(`{"query": {"match_all": {}}, "size": 3}`)); err != nil {
		t.Errorf("a valid search was refused: %v", err)
	}
}
