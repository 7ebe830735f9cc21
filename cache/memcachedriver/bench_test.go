package memcachedriver_test

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/cache/memcachedriver"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

const benchKeys = 1000

var benchValue = make([]byte, 100)

// benchSetup returns a raw gomemcache client (configured like the driver's:
// same timeout and idle connections) and a repokit Cache on the same server,
// both seeing benchKeys 100-byte values under a random prefix.
func benchSetup(b *testing.B) (raw *memcache.Client, c *cache.Cache, full, short []string) {
	raw_ := sqldbtest.ServiceURL(b, envURL)
	ctx := context.Background()
	u, err := url.Parse(raw_)
	if err != nil {
		b.Fatal(err)
	}
	raw = memcache.New(u.Host)
	raw.Timeout = memcachedriver.DefaultTimeout
	raw.MaxIdleConns = 4 * runtime.GOMAXPROCS(0)
	prefix := drivertest.RandomPrefix()
	c, err = cache.Open(ctx, raw_+"?prefix="+prefix)
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchKeys {
		short = append(short, fmt.Sprint("k", i))
		full = append(full, prefix+short[i])
		if err := raw.Set(&memcache.Item{Key: full[i], Value: benchValue}); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		for _, k := range full {
			_ = raw.Delete(k)
		}
		_ = raw.Close()
		_ = c.Close()
	})
	return raw, c, full, short
}

func BenchmarkMemcacheGet(b *testing.B) {
	raw, c, full, short := benchSetup(b)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := raw.Get(full[i%benchKeys]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repokit", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := c.Get(ctx, short[i%benchKeys]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMemcacheSet(b *testing.B) {
	raw, c, full, short := benchSetup(b)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := raw.Set(&memcache.Item{Key: full[i%benchKeys], Value: benchValue}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repokit", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := c.Set(ctx, short[i%benchKeys], benchValue, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
