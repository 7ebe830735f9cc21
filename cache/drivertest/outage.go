package drivertest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/pagecache"
	"github.com/repokit/repokit/cache/session"
)

// outageTimeout is the driver timeout used while the server is cut off.
const outageTimeout = 300 * time.Millisecond

func testOutage(t *testing.T, h Harness) {
	if h.OpenAt == nil || h.ServerAddr == "" {
		t.Skip("in-process driver: no server to lose")
	}
	// Down runs without the circuit breaker, so every operation reaches the
	// driver and must map the failure itself; Hung runs with it.
	t.Run("Down", func(t *testing.T) {
		t.Parallel()
		p := NewProxy(t, h.ServerAddr)
		c := newCache(t, h.OpenAt(t, p.Addr(), outageTimeout), cache.WithPrefix(RandomPrefix()), cache.WithBreaker(0))
		t.Cleanup(func() { _ = c.Close() })
		runOutage(t, c, p.Stop)
	})
	t.Run("Hung", func(t *testing.T) {
		t.Parallel()
		p := NewProxy(t, h.ServerAddr)
		c := newCache(t, h.OpenAt(t, p.Addr(), outageTimeout), cache.WithPrefix(RandomPrefix()))
		t.Cleanup(func() { _ = c.Close() })
		runOutage(t, c, p.Stall)
	})
}

// runOutage checks a working cache, cuts the server off with cut, and checks
// that every operation fails with ErrUnavailable while GetOrSet, the page
// cache and sessions keep serving.
func runOutage(t *testing.T, c *cache.Cache, cut func()) {
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set before the outage: %v", err)
	}
	var pageCalls atomic.Int32
	pages := pagecache.New(c).Middleware(pageApp(&pageCalls))
	if rec := get(t, pages, pageReq{path: "/p"}); rec.Code != 200 {
		t.Fatalf("page before the outage: %d", rec.Code)
	}
	// The driver's timeout is short (outageTimeout) so that the outage is
	// felt at once; on a loaded machine a store can exceed it before the
	// outage too, and the page cache then serves uncached. Ask until a hit.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if rec := get(t, pages, pageReq{path: "/p"}); rec.Header().Get("X-Cache") == "HIT" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("page not cached before the outage")
		}
	}
	sessions := sessionApp(session.New(c))
	_, ck := do(t, sessions, "/login?u=bob", "")

	cut()

	unavailable := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s during the outage: err = %v, want ErrUnavailable", op, err)
		}
	}
	_, err := c.Get(ctx, "k")
	unavailable("Get", err)
	unavailable("Set", c.Set(ctx, "k", []byte("v"), time.Minute))
	unavailable("Add", c.Add(ctx, "k2", []byte("v"), time.Minute))
	unavailable("Delete", c.Delete(ctx, "k"))
	_, err = c.Incr(ctx, "n", 1, 0)
	unavailable("Incr", err)
	_, err = c.GetMulti(ctx, []string{"k", "k2"})
	unavailable("GetMulti", err)
	_, err = c.Acquire(ctx, "lock", time.Minute)
	unavailable("Acquire", err)
	unavailable("Release", c.LockWithToken("lock", "t").Release(ctx))

	// GetOrSet degrades to the loader.
	v, err := c.GetOrSet(ctx, "k", time.Minute, func(context.Context) ([]byte, error) { return []byte("from loader"), nil })
	if err != nil || string(v) != "from loader" {
		t.Errorf("GetOrSet during the outage = %q, %v; want the loader's value", v, err)
	}
	// The page cache calls the handler through.
	before := pageCalls.Load()
	rec := get(t, pages, pageReq{path: "/p"})
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "call ") || pageCalls.Load() != before+1 {
		t.Errorf("page during the outage: %d %q (handler calls %d→%d)", rec.Code, rec.Body.String(), before, pageCalls.Load())
	}
	// Sessions: the site still answers (the user is logged out, not locked out).
	if body, _ := do(t, sessions, "/me", ck.Value); body != "" {
		t.Errorf("/me during the outage = %q", body)
	}
	if body, _ := do(t, sessions, "/plain", ck.Value); body != "plain" {
		t.Errorf("/plain during the outage = %q", body)
	}
	if rec := httptestStatus(sessions, "/visit"); rec != http.StatusOK {
		t.Errorf("/visit during the outage: %d", rec)
	}
}

func httptestStatus(h http.Handler, path string) int {
	rec := newRecorder()
	h.ServeHTTP(rec, mustRequest(path))
	return rec.Code
}
