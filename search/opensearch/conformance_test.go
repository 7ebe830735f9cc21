package opensearch_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/opensearch"
	"github.com/repokit/repokit/search/opensearch/osfake"
	"github.com/repokit/repokit/search/searchtest"
)

func randPrefix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + "-"
}

// openURL opens an engine at url with a random prefix and deletes the test's
// indices at cleanup.
func openURL(t *testing.T, url string) *search.Engine {
	t.Helper()
	ctx := context.Background()
	e, err := search.Open(ctx, url, search.WithPrefix(randPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{"records", "things", "v", "bulk", "conc", "refs", "broken"} {
			_ = e.DeleteIndex(ctx, n)
		}
		e.Close()
	})
	return e
}

// TestConformanceFake runs the suite against the in-process FAKE OpenSearch
// (osfake), always.
func TestConformanceFake(t *testing.T) {
	srv := osfake.New()
	srv.Username, srv.Password = "admin", "s3cret"
	t.Cleanup(srv.Close)
	url := strings.Replace(srv.URL(), "http://", "opensearch://", 1) + "?user=admin&password=s3cret"
	searchtest.Run(t, searchtest.Harness{NewEngine: func(t *testing.T) *search.Engine { return openURL(t, url) }, PIT: true})
}

// TestConformanceReal runs the suite against a real cluster when
// REPOKIT_TEST_OPENSEARCH_URL is set (e.g. opensearchs://localhost:9200?
// user=admin&password=...&tls_insecure=true). It is deliberately not covered
// by REPOKIT_TEST_REQUIRE_SERVICES: no OpenSearch can run on the CI machines.
func TestConformanceReal(t *testing.T) {
	url := testenv.Optional(t, "REPOKIT_TEST_OPENSEARCH_URL") // the fake runs in TestConformanceFake
	searchtest.Run(t, searchtest.Harness{NewEngine: func(t *testing.T) *search.Engine { return openURL(t, url) }, PIT: true})
}
