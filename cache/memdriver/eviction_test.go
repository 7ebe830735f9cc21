package memdriver_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/memdriver"
)

func TestBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	d := memdriver.New(memdriver.WithMaxBytes(64<<10), memdriver.WithShards(1))
	val := make([]byte, 1000)
	for i := range 1000 {
		if err := d.Set(ctx, fmt.Sprint("k", i), val, 0); err != nil {
			t.Fatal(err)
		}
		if b := d.Bytes(); b > 64<<10 {
			t.Fatalf("after %d sets the cache holds %d bytes, over its 64 KiB budget", i+1, b)
		}
	}
	if n := d.Len(); n < 50 || n > 64 {
		t.Fatalf("holds %d entries of ~1.1 KB in 64 KiB", n)
	}
	if _, err := d.Get(ctx, "k999"); err != nil {
		t.Fatalf("newest entry evicted: %v", err)
	}
	if _, err := d.Get(ctx, "k0"); !errors.Is(err, driver.ErrMiss) {
		t.Fatalf("oldest entry kept: %v", err)
	}
}

func TestRecentlyReadSurvivesEviction(t *testing.T) {
	ctx := context.Background()
	d := memdriver.New(memdriver.WithMaxBytes(20*(1000+100)), memdriver.WithShards(1))
	val := make([]byte, 1000)
	for i := range 20 {
		_ = d.Set(ctx, fmt.Sprint("k", i), val, 0)
	}
	// Read every key once so all carry the reference bit, then keep k0 hot.
	for i := range 20 {
		_, _ = d.Get(ctx, fmt.Sprint("k", i))
	}
	hot := 0
	for i := 20; i < 60; i++ {
		if _, err := d.Get(ctx, "k0"); err == nil {
			hot++
		}
		_ = d.Set(ctx, fmt.Sprint("k", i), val, 0)
	}
	if _, err := d.Get(ctx, "k0"); err != nil || hot != 40 {
		t.Fatalf("a key read before every insert was evicted (hits %d/40, final %v)", hot, err)
	}
	if _, err := d.Get(ctx, "k1"); !errors.Is(err, driver.ErrMiss) {
		t.Fatalf("cold key k1 survived 40 inserts into a 20-entry cache: %v", err)
	}
}

func TestValueLargerThanShard(t *testing.T) {
	d := memdriver.New(memdriver.WithMaxBytes(1<<20), memdriver.WithShards(4))
	err := d.Set(context.Background(), "k", make([]byte, 300<<10), 0)
	if !errors.Is(err, driver.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d.MaxValueBytes(1) >= 256<<10 {
		t.Fatalf("MaxValueBytes = %d, want < shard size", d.MaxValueBytes(1))
	}
}

func TestOpenURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"mem://", true},
		{"mem://?max_bytes=64MiB", true},
		{"mem://?max_bytes=1GB&shards=3", true},
		{"mem://?max_bytes=lots", false},
		{"mem://?max_bytes=12XB", false},
		{"mem://?shards=0", false},
		{"mem://?colour=blue", false},
	} {
		u, _ := url.Parse(tc.url)
		_, err := memdriver.URLOpener{}.OpenCacheURL(context.Background(), u)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
	if n, _ := memdriver.ParseBytes("64MiB"); n != 64<<20 {
		t.Fatalf("ParseBytes(64MiB) = %d", n)
	}
}
