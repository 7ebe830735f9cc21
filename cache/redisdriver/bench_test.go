package redisdriver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

const benchKeys = 1000

var benchValue = make([]byte, 100)

// benchSetup returns a raw go-redis client and a repokit Cache on the same
// server, both holding benchKeys 100-byte values under a random prefix, and
// the keys (full keys for the raw client, short ones for the Cache).
func benchSetup(b *testing.B) (raw *redis.Client, c *cache.Cache, full, short []string) {
	url := sqldbtest.ServiceURL(b, envURL)
	ctx := context.Background()
	o, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	raw = redis.NewClient(o)
	prefix := drivertest.RandomPrefix()
	c, err = cache.Open(ctx, url+"?prefix="+prefix)
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchKeys {
		short = append(short, fmt.Sprint("k", i))
		full = append(full, prefix+short[i])
		if err := raw.Set(ctx, full[i], benchValue, 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		raw.Del(ctx, full...)
		_ = raw.Close()
		_ = c.Close()
	})
	return raw, c, full, short
}

func BenchmarkRedisGet(b *testing.B) {
	raw, c, full, short := benchSetup(b)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := raw.Get(ctx, full[i%benchKeys]).Bytes(); err != nil {
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

func BenchmarkRedisSet(b *testing.B) {
	raw, c, full, short := benchSetup(b)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := raw.Set(ctx, full[i%benchKeys], benchValue, 0).Err(); err != nil {
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
