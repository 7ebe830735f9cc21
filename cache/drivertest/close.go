package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
)

// testClose: closing a cache, and its driver after it, any number of times
// is not an error (a host's deferred Close after an explicit one must not
// report a failure), and the cache refuses use after Close.
func testClose(t *testing.T, h Harness) {
	ctx := context.Background()
	drv := h.Open(t)
	c := newCache(t, drv)
	if err := c.Set(ctx, RandomPrefix()+"k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	if err := drv.Close(); err != nil {
		t.Fatalf("driver Close after the cache's: %v", err)
	}
}
