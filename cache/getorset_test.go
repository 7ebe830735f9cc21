package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/memdriver"
)

// ttlRecorder is a mem driver that records the ttl of every Set.
type ttlRecorder struct {
	*memdriver.Driver
	mu   sync.Mutex
	ttls []time.Duration
}

func (r *ttlRecorder) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	r.mu.Lock()
	r.ttls = append(r.ttls, ttl)
	r.mu.Unlock()
	return r.Driver.Set(ctx, key, v, ttl)
}

func TestJitterSpreadsTTLs(t *testing.T) {
	ctx := context.Background()
	rec := &ttlRecorder{Driver: memdriver.New()}
	c, err := cache.New(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 50 {
		_, err := c.GetOrSet(ctx, fmt.Sprint(i), time.Hour, func(context.Context) ([]byte, error) { return []byte("v"), nil },
			cache.WithJitter(0.2))
		if err != nil {
			t.Fatal(err)
		}
	}
	distinct := map[time.Duration]bool{}
	for _, ttl := range rec.ttls {
		if ttl > time.Hour || ttl < 48*time.Minute {
			t.Fatalf("jittered ttl %v outside [48m, 1h]", ttl)
		}
		distinct[ttl] = true
	}
	if len(rec.ttls) != 50 || len(distinct) < 40 {
		t.Fatalf("%d sets, %d distinct ttls: jitter not applied", len(rec.ttls), len(distinct))
	}
	// Without jitter the ttl is passed through unchanged.
	rec.ttls = nil
	_, _ = c.GetOrSet(ctx, "plain", time.Hour, func(context.Context) ([]byte, error) { return []byte("v"), nil })
	if len(rec.ttls) != 1 || rec.ttls[0] != time.Hour {
		t.Fatalf("ttls %v, want [1h]", rec.ttls)
	}
	// Stale-while-revalidate keeps the value for ttl+window.
	rec.ttls = nil
	_, _ = c.GetOrSet(ctx, "swr", time.Hour, func(context.Context) ([]byte, error) { return []byte("v"), nil },
		cache.WithStaleWhileRevalidate(10*time.Minute))
	if len(rec.ttls) != 1 || rec.ttls[0] != 70*time.Minute {
		t.Fatalf("swr ttls %v, want [1h10m]", rec.ttls)
	}
}
