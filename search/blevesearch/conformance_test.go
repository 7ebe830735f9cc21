package blevesearch_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/search/searchtest"
)

func newEngine(t *testing.T) *search.Engine {
	e, err := search.Open(context.Background(), "bleve://"+t.TempDir()+"?prefix=app-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestConformance(t *testing.T) {
	searchtest.Run(t, searchtest.Harness{NewEngine: newEngine})
}

// TestConformanceSharded runs the suite on indices of 3 shards: every
// feature of the driver works the same on a sharded index.
func TestConformanceSharded(t *testing.T) {
	searchtest.Run(t, searchtest.Harness{NewEngine: func(t *testing.T) *search.Engine {
		e, err := search.Open(context.Background(), "bleve://"+t.TempDir()+"?prefix=app-&shards=3")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}})
}
