package memcachedriver_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/cache/memcachedriver"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

const envURL = "REPOKIT_TEST_MEMCACHE_URL"

func openURL(t *testing.T, raw string) driver.Driver {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	d, err := memcachedriver.URLOpener{}.OpenCacheURL(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", raw, err)
	}
	return d
}

func withTimeout(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Query().Has("timeout") {
		return raw
	}
	q := u.Query()
	q.Set("timeout", "10s")
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	t.Parallel() // overlaps with TestMultiServerConformance: both mostly sleep on TTLs
	u, _ := url.Parse(raw)
	drivertest.RunConformanceTests(t, drivertest.Harness{
		// A generous socket timeout (the outage tests set their own): the
		// suite checks behaviour, not speed, and a loaded machine answers
		// slower than the 1s default.
		Open:       func(t *testing.T) driver.Driver { return openURL(t, withTimeout(raw)) },
		ServerAddr: u.Host,
		OpenAt: func(t *testing.T, addr string, timeout time.Duration) driver.Driver {
			return openURL(t, "memcache://"+addr+"?timeout="+timeout.String())
		},
		MinTTL:              2 * time.Second,
		RejectsKeySpaces:    true,
		DriverMaxValueBytes: memcachedriver.DefaultMaxItemBytes,
	})
}

func TestOpenViaMux(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	ctx := context.Background()
	c, err := cache.Open(ctx, raw+"?prefix="+drivertest.RandomPrefix())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	_ = c.Delete(ctx, "k")
}

func TestOpenURLForms(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"memcache://127.0.0.1:11211", true},
		{"memcache://127.0.0.1:11211,127.0.0.2:11212?timeout=200ms&max_idle_conns=8&max_item_bytes=2MiB", true},
		{"memcache://127.0.0.1", true},
		{"memcache://", false},
		{"memcache://h1:1,,h2:2", false},
		{"memcache://h1:1?timeout=x", false},
		{"memcache://h1:1?max_idle_conns=0", false},
		{"memcache://h1:1?colour=blue", false},
	} {
		u, _ := url.Parse(tc.url)
		_, err := memcachedriver.URLOpener{}.OpenCacheURL(context.Background(), u)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}
