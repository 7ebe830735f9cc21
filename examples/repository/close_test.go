package main

import (
	"context"
	"io"
	"testing"
)

// TestAppCloseOrder: Close releases every driver (the database last) and
// is idempotent, as docs/lifecycle.md describes.
func TestAppCloseOrder(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Data: t.TempDir(), CacheURL: "mem://", IndexPrefix: "repokit-", MaxUpload: 1 << 20}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	app, err := Open(ctx, &cfg, newLogger(io.Discard, "error"), appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	db := app.db
	if err := app.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := app.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("the database is still open after Close")
	}
	if _, err := app.cache.Get(ctx, "k"); err == nil {
		t.Fatal("the cache is still open after Close")
	}
	if _, err := app.locs.Default().Exists(ctx, "k"); err == nil {
		t.Fatal("the storage location is still open after Close")
	}
	// The embedded index's lock is released: the same data directory opens
	// again in this process.
	again, err := Open(ctx, &cfg, newLogger(io.Discard, "error"), appOptions{})
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
