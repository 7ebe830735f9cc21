package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
)

func testTTL(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	ttl := h.MinTTL
	setAt := time.Now()
	if err := c.Set(ctx, "short", []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "long", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, "added", []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	counterAt := time.Now()
	if _, err := c.Incr(ctx, "counter", 1, ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Incr(ctx, "counter", 1, time.Hour); err != nil { // keeps its first expiry
		t.Fatal(err)
	}
	// If the first ttl had (nearly) run out before the second Incr (a loaded
	// machine), that Incr rightly made a new counter with a one-hour ttl:
	// the counter's expiry cannot be checked this time.
	expiring := []string{"short", "added", "counter"}
	if time.Since(counterAt) >= ttl/2 {
		t.Logf("second Incr came %v after the first (ttl %v): counter expiry not checked", time.Since(counterAt), ttl)
		expiring = expiring[:2]
	}
	if err := c.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	// Overwriting with ttl 0 removes an earlier expiry.
	if err := c.Set(ctx, "made-permanent", []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "made-permanent", []byte("v2"), 0); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"short", "added", "counter"} {
		_, err := c.Get(ctx, k)
		// A miss only proves early expiry if the ttl had not (nearly) run
		// out yet: a loaded machine can take longer than a short ttl to get
		// here, and Memcached counts whole seconds.
		if err != nil && !(errors.Is(err, cache.ErrMiss) && time.Since(setAt) >= ttl/2) {
			t.Fatalf("%s right after Set with ttl %v: %v", k, ttl, err)
		}
	}
	time.Sleep(ttl + ttl/2 + 1100*time.Millisecond*boolInt(ttl >= time.Second))
	for _, k := range expiring {
		if _, err := c.Get(ctx, k); !errors.Is(err, cache.ErrMiss) {
			t.Fatalf("%s after its ttl: err = %v, want ErrMiss", k, err)
		}
	}
	for _, k := range []string{"long", "forever", "made-permanent"} {
		if _, err := c.Get(ctx, k); err != nil {
			t.Fatalf("%s expired early: %v", k, err)
		}
	}
	// An expired key is absent for Add and Incr as well.
	if err := c.Add(ctx, "added", []byte("again"), time.Hour); err != nil {
		t.Fatalf("Add over an expired key: %v", err)
	}
	if len(expiring) == 3 {
		if n, err := c.Incr(ctx, "counter", 1, time.Hour); err != nil || n != 1 {
			t.Fatalf("Incr over an expired key = %d, %v; want 1", n, err)
		}
	}
}

func boolInt(b bool) time.Duration {
	if b {
		return 1
	}
	return 0
}
