package search_test

import (
	"context"
	"errors"
	"testing"

	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
)

// Close is idempotent, like every Close of the module, and an engine used
// after Close says so with ErrClosed.
func TestEngineCloseIdempotent(t *testing.T) {
	ctx := context.Background()
	e, err := search.Open(ctx, "bleve://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
	if _, err := e.IndexExists(ctx, "records"); !errors.Is(err, search.ErrClosed) {
		t.Fatalf("IndexExists after Close: %v, want ErrClosed", err)
	}
}
