package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/repokit/repokit/storage"
)

// Open opens a set of locations from URLs: the first is the default, more
// are added with WithLocation. Close closes them all.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "storage-example-")
	defer os.RemoveAll(dir)

	locs, err := storage.Open(ctx, "file://"+filepath.Join(dir, "data")+"?create_dir=1",
		storage.WithName("local"),
		storage.WithLocation("scratch", "mem://"),
		storage.WithSigningKey([]byte("a secret shared by every process")))
	if err != nil {
		panic(err)
	}
	defer locs.Close()
	fmt.Println(locs.Names(), locs.Default().Scheme())
	// Output:
	// [local scratch] file
}

// New groups locations opened one by one (for example with options of their
// own) into a set; the set owns them.
func ExampleNew() {
	ctx := context.Background()
	hot, err := storage.OpenLocation(ctx, "hot", "mem://")
	if err != nil {
		panic(err)
	}
	cold, err := storage.OpenLocation(ctx, "cold", "mem://", storage.WithUploadConcurrency(4))
	if err != nil {
		panic(err)
	}
	locs, err := storage.New(ctx, hot, cold)
	if err != nil {
		panic(err)
	}
	defer locs.Close() // closes hot and cold
	fmt.Println(locs.Default().Name(), len(locs.All()))
	// Output:
	// hot 2
}
