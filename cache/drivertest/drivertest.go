// Package drivertest is the conformance suite every cache driver runs: the
// portable operations, TTLs, bad input, GetOrSet with singleflight and
// stale-while-revalidate, owner-checked locks, sessions, the page cache, and
// (for server drivers) behaviour while the server is down or hung.
//
// A driver's test calls RunConformanceTests with a Harness:
//
//	func TestConformance(t *testing.T) {
//		drivertest.RunConformanceTests(t, drivertest.Harness{Open: ..., MinTTL: ...})
//	}
package drivertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
)

// Harness describes a driver to the suite.
type Harness struct {
	// Open returns a new driver for one test; the suite closes it. Tests share
	// the server, so the suite isolates each one under a random key prefix.
	Open func(t *testing.T) driver.Driver
	// ServerAddr is the host:port of the server, for drivers that have one.
	// With OpenAt it enables the outage tests (run through a Proxy).
	ServerAddr string
	// OpenAt returns a driver connected to addr (instead of ServerAddr) whose
	// dial and read timeouts are timeout.
	OpenAt func(t *testing.T, addr string, timeout time.Duration) driver.Driver
	// MinTTL is the shortest ttl the driver honours exactly enough for the
	// expiry tests (Memcached counts whole seconds: use 2s there).
	MinTTL time.Duration
	// RejectsKeySpaces says keys with spaces or control characters, or longer
	// than 250 bytes, fail with ErrInvalidKey (Memcached); otherwise they must
	// round-trip.
	RejectsKeySpaces bool
	// DriverMaxValueBytes is a value size the driver itself must refuse with
	// ErrTooLarge (its item limit); 0 skips that check.
	DriverMaxValueBytes int
}

// RunConformanceTests runs the whole suite against h.
func RunConformanceTests(t *testing.T, h Harness) {
	if h.MinTTL <= 0 {
		h.MinTTL = 200 * time.Millisecond
	}
	// Groups run in parallel (each test has its own prefix) so that the
	// sleeps of the TTL tests overlap.
	t.Run("Basic", func(t *testing.T) { t.Parallel(); testBasic(t, h) })
	t.Run("Add", func(t *testing.T) { t.Parallel(); testAdd(t, h) })
	t.Run("GetMulti", func(t *testing.T) { t.Parallel(); testGetMulti(t, h) })
	t.Run("Incr", func(t *testing.T) { t.Parallel(); testIncr(t, h) })
	t.Run("Namespace", func(t *testing.T) { t.Parallel(); testNamespace(t, h) })
	t.Run("Typed", func(t *testing.T) { t.Parallel(); testTyped(t, h) })
	t.Run("BadInput", func(t *testing.T) { t.Parallel(); testBadInput(t, h) })
	t.Run("TTL", func(t *testing.T) { t.Parallel(); testTTL(t, h) })
	t.Run("GetOrSet", func(t *testing.T) { t.Parallel(); testGetOrSet(t, h) })
	t.Run("Lock", func(t *testing.T) { t.Parallel(); testLock(t, h) })
	t.Run("Session", func(t *testing.T) { t.Parallel(); testSession(t, h) })
	t.Run("PageCache", func(t *testing.T) { t.Parallel(); testPageCache(t, h) })
	t.Run("PagePurge", func(t *testing.T) { t.Parallel(); testPagePurge(t, h) })
	t.Run("Outage", func(t *testing.T) { t.Parallel(); testOutage(t, h) })
	t.Run("Close", func(t *testing.T) { t.Parallel(); testClose(t, h) })
}

// RandomPrefix returns a fresh "rk-test-<hex>:" prefix isolating one test's
// keys on a shared server.
func RandomPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "rk-test-" + hex.EncodeToString(b[:]) + ":"
}

// open returns a cache over a new driver, isolated under a random prefix and
// closed at cleanup.
func open(t *testing.T, h Harness, opts ...cache.Option) *cache.Cache {
	t.Helper()
	c := newCache(t, h.Open(t), append([]cache.Option{cache.WithPrefix(RandomPrefix())}, opts...)...)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newCache is cache.New that fails t on error.
func newCache(t *testing.T, drv driver.Driver, opts ...cache.Option) *cache.Cache {
	t.Helper()
	c, err := cache.New(context.Background(), drv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }
