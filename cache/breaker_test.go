package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/memdriver"
)

// flaky is a mem driver that can be switched into failing with ErrUnavailable,
// counting the calls that reach it.
type flaky struct {
	*memdriver.Driver
	down  atomic.Bool
	calls atomic.Int32
}

func (f *flaky) Get(ctx context.Context, key string) ([]byte, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return nil, driver.ErrUnavailable
	}
	return f.Driver.Get(ctx, key)
}

func (f *flaky) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	f.calls.Add(1)
	if f.down.Load() {
		return driver.ErrUnavailable
	}
	return f.Driver.Set(ctx, key, v, ttl)
}

func TestBreaker(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Driver: memdriver.New()}
	c, err := cache.New(ctx, f, cache.WithBreaker(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	_, err = c.Get(ctx, "k")
	if !errors.Is(err, cache.ErrUnavailable) || errors.Is(err, cache.ErrCircuitOpen) {
		t.Fatalf("Get on a down server: %v", err)
	}
	if cache.LogLevel(err) != slog.LevelWarn {
		t.Fatal("the failure that opens the circuit must be logged as a warning")
	}
	before := f.calls.Load()
	for range 50 {
		if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrUnavailable) || !errors.Is(err, cache.ErrCircuitOpen) {
			t.Fatalf("Get with the circuit open: %v, want ErrUnavailable and ErrCircuitOpen", err)
		}
	}
	if got := f.calls.Load() - before; got != 0 {
		t.Fatalf("%d calls reached the driver while the circuit was open", got)
	}
	// GetOrSet still answers from the loader.
	v, err := c.GetOrSet(ctx, "k", 0, func(context.Context) ([]byte, error) { return []byte("loaded"), nil })
	if err != nil || string(v) != "loaded" {
		t.Fatalf("GetOrSet with the circuit open = %q, %v", v, err)
	}
	f.down.Store(false)
	time.Sleep(250 * time.Millisecond)
	// After the cooldown one call probes, succeeds, and closes the circuit.
	if got, err := c.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get after recovery = %q, %v", got, err)
	}
	if _, err := c.Get(ctx, "k"); err != nil {
		t.Fatalf("circuit still open after a successful probe: %v", err)
	}
}

func TestBreakerOff(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Driver: memdriver.New()}
	c, err := cache.New(ctx, f, cache.WithBreaker(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f.down.Store(true)
	for range 5 {
		_, _ = c.Get(ctx, "k")
	}
	if f.calls.Load() != 5 {
		t.Fatalf("with the breaker off %d of 5 calls reached the driver", f.calls.Load())
	}
}

// The pinned contract: *cache.Cache satisfies tasks.ResultCache.
var _ interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
} = (*cache.Cache)(nil)

func TestBreakerIgnoresCallerDeadlines(t *testing.T) {
	f := &flaky{Driver: memdriver.New()}
	c, err := cache.New(context.Background(), f, cache.WithBreaker(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f.down.Store(true)
	dead, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-dead.Done()
	_, _ = c.Get(dead, "k") // fails, but because of the caller's own deadline
	before := f.calls.Load()
	_, _ = c.Get(context.Background(), "k")
	if f.calls.Load() != before+1 {
		t.Fatal("a caller's expired deadline opened the circuit for everyone")
	}
}
