package drivertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
)

func testGetOrSet(t *testing.T, h Harness) {
	t.Run("LoadsOnceThenHits", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		var calls atomic.Int32
		load := func(context.Context) ([]byte, error) {
			calls.Add(1)
			return []byte("loaded"), nil
		}
		for range 3 {
			v, err := c.GetOrSet(ctx, "k", time.Hour, load)
			if err != nil || string(v) != "loaded" {
				t.Fatalf("GetOrSet = %q, %v", v, err)
			}
		}
		if calls.Load() != 1 {
			t.Fatalf("loader calls = %d, want 1", calls.Load())
		}
		if v, err := c.Get(ctx, "k"); err != nil || string(v) != "loaded" {
			t.Fatalf("value not stored: %q, %v", v, err)
		}
	})
	t.Run("Singleflight100", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		var calls, late atomic.Int32
		var firstDone atomic.Bool
		release := make(chan struct{})
		load := func(context.Context) ([]byte, error) {
			if calls.Add(1) > 1 && firstDone.Load() {
				// A caller that only got to GetOrSet once the first flight
				// had finished (a slow machine) may load again.
				late.Add(1)
				return []byte("once"), nil
			}
			<-release
			firstDone.Store(true)
			return []byte("once"), nil
		}
		const n = 100
		var wg, started sync.WaitGroup
		errs := make(chan error, n)
		started.Add(n)
		for range n {
			wg.Go(func() {
				started.Done()
				v, err := c.GetOrSet(ctx, "cold", time.Hour, load)
				if err == nil && string(v) != "once" {
					err = fmt.Errorf("got %q", v)
				}
				errs <- err
			})
		}
		started.Wait()
		time.Sleep(50 * time.Millisecond) // let the goroutines reach the flight
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := calls.Load() - late.Load(); got != 1 {
			t.Fatalf("100 concurrent GetOrSet on a cold key called the loader %d times during the first load, want 1", got)
		}
		if late.Load() > 0 {
			t.Logf("%d callers arrived after the first load had finished and loaded again", late.Load())
		}
	})
	t.Run("LoaderErrorNotCached", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		boom := errors.New("boom")
		_, err := c.GetOrSet(ctx, "k", time.Hour, func(context.Context) ([]byte, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the loader's", err)
		}
		if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
			t.Fatalf("failed load was cached: %v", err)
		}
		if _, err := c.GetOrSet(ctx, "k", time.Hour, nil); !errors.Is(err, cache.ErrInvalid) {
			t.Fatalf("nil loader: %v, want ErrInvalid", err)
		}
	})
	t.Run("Jitter", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		for i := range 10 {
			k := fmt.Sprint("j", i)
			v, err := c.GetOrSet(ctx, k, time.Hour, func(context.Context) ([]byte, error) { return []byte(k), nil }, cache.WithJitter(0.5))
			if err != nil || string(v) != k {
				t.Fatalf("GetOrSet with jitter = %q, %v", v, err)
			}
			if got, err := c.Get(ctx, k); err != nil || string(got) != k {
				t.Fatalf("jittered value not stored: %q, %v", got, err)
			}
		}
	})
	t.Run("StaleWhileRevalidate", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		var calls atomic.Int32
		refreshed := make(chan struct{})
		var refreshOnce sync.Once
		gate := make(chan struct{})
		load := func(context.Context) ([]byte, error) {
			n := calls.Add(1)
			if n == 1 {
				return []byte("v1"), nil
			}
			<-gate
			defer refreshOnce.Do(func() { close(refreshed) })
			return []byte("v2"), nil
		}
		ttl := h.MinTTL
		// The first value lives ttl (so that it goes stale); the refreshed
		// one lives long, so that a slow machine cannot see it expire and
		// start a second refresh before the test reads it.
		long := time.Minute
		swr := cache.WithStaleWhileRevalidate(time.Minute)
		if v, err := c.GetOrSet(ctx, "k", ttl, load, swr); err != nil || string(v) != "v1" {
			t.Fatalf("first GetOrSet = %q, %v", v, err)
		}
		time.Sleep(ttl + ttl/2)
		// Stale now: served at once (the refresh is blocked on gate), and
		// several stale reads start one refresh only.
		for range 5 {
			if v, err := c.GetOrSet(ctx, "k", long, load, swr); err != nil || string(v) != "v1" {
				t.Fatalf("stale GetOrSet = %q, %v; want the stale v1", v, err)
			}
		}
		close(gate)
		<-refreshed
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, err := c.GetOrSet(ctx, "k", long, load, swr)
			if err != nil {
				t.Fatal(err)
			}
			if string(v) == "v2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("refreshed value never stored; still %q", v)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n := calls.Load(); n != 2 {
			t.Fatalf("loader calls = %d, want 2 (initial + one background refresh)", n)
		}
	})
	t.Run("CallerContext", func(t *testing.T) {
		t.Parallel()
		c := open(t, h)
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		done := make(chan struct{})
		go func() {
			// The first caller's loader keeps running after that caller gives up.
			_, _ = c.GetOrSet(context.Background(), "k", time.Hour, func(ctx context.Context) ([]byte, error) {
				close(started)
				<-done
				return []byte("late"), ctx.Err()
			})
		}()
		<-started
		errc := make(chan error, 1)
		go func() {
			_, err := c.GetOrSet(ctx, "k", time.Hour, func(context.Context) ([]byte, error) { return []byte("x"), nil })
			errc <- err
		}()
		time.Sleep(20 * time.Millisecond)
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("waiting caller after cancel: %v, want context.Canceled", err)
		}
		close(done)
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, err := c.Get(context.Background(), "k")
			if err == nil {
				if string(v) != "late" {
					t.Fatalf("stored %q", v)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("shared load never stored: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
