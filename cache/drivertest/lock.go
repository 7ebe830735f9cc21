package drivertest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
)

func testLock(t *testing.T, h Harness) {
	t.Run("Ownership", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		a, err := c.Acquire(ctx, "job", time.Minute)
		if err != nil {
			t.Fatalf("A Acquire: %v", err)
		}
		if _, err := c.Acquire(ctx, "job", time.Minute); !errors.Is(err, cache.ErrLocked) {
			t.Fatalf("B Acquire of a held lock: %v, want ErrLocked", err)
		}
		// B knows the name but not A's token: it cannot release or renew.
		b := c.LockWithToken("job", "not-the-token")
		if err := b.Release(ctx); !errors.Is(err, cache.ErrNotOwner) {
			t.Fatalf("B Release of A's lock: %v, want ErrNotOwner", err)
		}
		if err := b.Renew(ctx, time.Minute); !errors.Is(err, cache.ErrNotOwner) {
			t.Fatalf("B Renew of A's lock: %v, want ErrNotOwner", err)
		}
		if _, err := c.Acquire(ctx, "job", time.Minute); !errors.Is(err, cache.ErrLocked) {
			t.Fatalf("lock freed by a non-owner: %v", err)
		}
		if a.Token() == "" || a.Key() != "job" {
			t.Fatalf("lock fields: %q %q", a.Key(), a.Token())
		}
		if err := a.Renew(ctx, time.Minute); err != nil {
			t.Fatalf("A Renew: %v", err)
		}
		// The token travels: another process can release with it.
		if err := c.LockWithToken("job", a.Token()).Release(ctx); err != nil {
			t.Fatalf("Release with A's token: %v", err)
		}
		if err := a.Release(ctx); !errors.Is(err, cache.ErrLockLost) {
			t.Fatalf("second Release: %v, want ErrLockLost", err)
		}
		b2, err := c.Acquire(ctx, "job", time.Minute)
		if err != nil {
			t.Fatalf("Acquire after release: %v", err)
		}
		if b2.Token() == a.Token() {
			t.Fatal("tokens repeat")
		}
		// A lock is not a data key of the same name.
		if _, err := c.Get(ctx, "job"); !errors.Is(err, cache.ErrMiss) {
			t.Fatalf("lock visible as data key: %v", err)
		}
		if _, err := c.Acquire(ctx, "x", 0); !errors.Is(err, cache.ErrInvalid) {
			t.Fatalf("ttl 0: %v, want ErrInvalid", err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		ttl := h.MinTTL
		a, err := c.Acquire(ctx, "job", ttl)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(ttl + ttl/2 + 1100*time.Millisecond*boolInt(ttl >= time.Second))
		if err := a.Renew(ctx, ttl); !errors.Is(err, cache.ErrLockLost) {
			t.Fatalf("Renew after expiry: %v, want ErrLockLost", err)
		}
		b, err := c.Acquire(ctx, "job", time.Minute)
		if err != nil {
			t.Fatalf("B Acquire after A's lock expired: %v", err)
		}
		if err := a.Release(ctx); !errors.Is(err, cache.ErrNotOwner) {
			t.Fatalf("A Release of B's lock: %v, want ErrNotOwner", err)
		}
		if err := a.Renew(ctx, time.Minute); !errors.Is(err, cache.ErrNotOwner) {
			t.Fatalf("A Renew of B's lock: %v, want ErrNotOwner", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatalf("B Release: %v", err)
		}
	})
	t.Run("RenewKeepsAlive", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		ttl := h.MinTTL
		var a *cache.Lock
		for try := 1; ; try++ {
			acquiredAt := time.Now()
			l, err := c.Acquire(ctx, "job", ttl)
			if err != nil {
				t.Fatal(err)
			}
			err = l.Renew(ctx, time.Minute)
			if err == nil {
				a = l
				break
			}
			// Renewing after the ttl ran out is allowed to fail: a loaded
			// machine can take that long between the two calls. Try again.
			if !errors.Is(err, cache.ErrLockLost) || time.Since(acquiredAt) < ttl || try == 5 {
				t.Fatal(err)
			}
		}
		time.Sleep(ttl + ttl/2 + 1100*time.Millisecond*boolInt(ttl >= time.Second))
		if _, err := c.Acquire(ctx, "job", time.Minute); !errors.Is(err, cache.ErrLocked) {
			t.Fatalf("renewed lock expired on its first ttl: %v", err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatalf("Release of the renewed lock: %v", err)
		}
	})
	t.Run("MutualExclusion", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		var inside, maxInside, done atomic.Int32
		var wg sync.WaitGroup
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for range 8 {
			wg.Go(func() {
				for range 3 {
					l, err := c.Acquire(wctx, "crit", time.Minute, cache.WithRetry(5*time.Millisecond))
					if err != nil {
						t.Errorf("Acquire: %v", err)
						return
					}
					n := inside.Add(1)
					for {
						m := maxInside.Load()
						if n <= m || maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(2 * time.Millisecond)
					inside.Add(-1)
					if err := l.Release(ctx); err != nil {
						t.Errorf("Release: %v", err)
					}
					done.Add(1)
				}
			})
		}
		wg.Wait()
		if maxInside.Load() != 1 || done.Load() != 24 {
			t.Fatalf("max holders at once = %d (want 1), sections run = %d (want 24)", maxInside.Load(), done.Load())
		}
	})
	t.Run("WaitForRelease", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := open(t, h)
		a, err := c.Acquire(ctx, "job", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(100 * time.Millisecond)
			_ = a.Release(ctx)
		}()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		b, err := c.Acquire(wctx, "job", time.Minute, cache.WithRetry(20*time.Millisecond))
		if err != nil {
			t.Fatalf("waiting Acquire: %v", err)
		}
		_ = b.Release(ctx)
		// Gives up with ErrLocked when the context ends.
		_, _ = c.Acquire(ctx, "held", time.Minute)
		sctx, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel2()
		if _, err := c.Acquire(sctx, "held", time.Minute, cache.WithRetry(20*time.Millisecond)); !errors.Is(err, cache.ErrLocked) {
			t.Fatalf("Acquire past its deadline: %v, want ErrLocked", err)
		}
	})
}
