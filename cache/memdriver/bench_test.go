package memdriver_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/memdriver"
)

const benchKeys = 10000

var benchValue = make([]byte, 100)

func benchKeyList() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:key:%d", i)
	}
	return keys
}

// mapCache is the baseline: a plain map behind a sync.RWMutex, with no byte
// bound, no TTL, no eviction and no copying (Get returns the stored slice).
type mapCache struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func (c *mapCache) Get(key string) ([]byte, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	return v, ok
}

func (c *mapCache) Set(key string, v []byte) {
	c.mu.Lock()
	c.m[key] = v
	c.mu.Unlock()
}

func newRepokit(b *testing.B, keys []string) *cache.Cache {
	c, err := cache.Open(context.Background(), "mem://?max_bytes=64MiB")
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range keys {
		_ = c.Set(context.Background(), k, benchValue, 0)
	}
	return c
}

func newBaseline(keys []string) *mapCache {
	m := &mapCache{m: make(map[string][]byte, len(keys))}
	for _, k := range keys {
		m.Set(k, benchValue)
	}
	return m
}

// BenchmarkMemGet: parallel Get of 10,000 resident 100-byte values.
func BenchmarkMemGet(b *testing.B) {
	keys := benchKeyList()
	var seq atomic.Int64
	b.Run("baseline", func(b *testing.B) {
		m := newBaseline(keys)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(7919))
			for pb.Next() {
				i++
				if _, ok := m.Get(keys[i%benchKeys]); !ok {
					b.Fatal("miss")
				}
			}
		})
	})
	b.Run("repokit", func(b *testing.B) {
		c := newRepokit(b, keys)
		defer c.Close()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(7919))
			for pb.Next() {
				i++
				if _, err := c.Get(ctx, keys[i%benchKeys]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkMemSet: parallel overwrite of 10,000 resident 100-byte values.
func BenchmarkMemSet(b *testing.B) {
	keys := benchKeyList()
	var seq atomic.Int64
	b.Run("baseline", func(b *testing.B) {
		m := newBaseline(keys)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(7919))
			for pb.Next() {
				i++
				m.Set(keys[i%benchKeys], benchValue)
			}
		})
	})
	b.Run("repokit", func(b *testing.B) {
		c := newRepokit(b, keys)
		defer c.Close()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(7919))
			for pb.Next() {
				i++
				if err := c.Set(ctx, keys[i%benchKeys], benchValue, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkMemDriverGet measures the driver alone (no portable layer).
func BenchmarkMemDriverGet(b *testing.B) {
	keys := benchKeyList()
	d := memdriver.New()
	ctx := context.Background()
	for _, k := range keys {
		_ = d.Set(ctx, k, benchValue, 0)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(7919))
		for pb.Next() {
			i++
			if _, err := d.Get(ctx, keys[i%benchKeys]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
