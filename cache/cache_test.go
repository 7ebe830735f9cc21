package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
)

func TestOpenMemAndParams(t *testing.T) {
	ctx := context.Background()
	c, err := cache.Open(ctx, "mem://?max_bytes=8MiB&prefix=app:&max_value_bytes=1KiB")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Prefix() != "app:" {
		t.Fatalf("prefix = %q", c.Prefix())
	}
	if err := c.Set(ctx, "k", make([]byte, 1025), 0); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("max_value_bytes not applied: %v", err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Driver().Get(ctx, "app:k"); err != nil || string(v) != "v" {
		t.Fatalf("driver key = %q, %v; prefix not applied", v, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"nosuch://x", "mem://?max_bytes=x", "mem://?bogus=1", "mem://?max_value_bytes=-1", "mem://?breaker=-1s", "mem://?breaker=soon", "::"} {
		if _, err := cache.Open(ctx, u); !errors.Is(err, cache.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", u, err)
		}
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	c, _ := cache.Open(ctx, "mem://")
	ns := c.Namespace("x")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ns.Set(ctx, "k", nil, 0); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("Set on closed cache: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
