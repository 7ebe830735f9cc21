package files_test

import (
	"context"
	"strings"
	"testing"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
)

// BenchmarkHead: the download path's metadata read (one prepared point
// lookup) on SQLite.
func BenchmarkHead(b *testing.B) {
	ctx := context.Background()
	env := filestest.New(b, "sqlite", filestest.Options{})
	bk, _ := env.Store.CreateBucket(ctx, files.BucketOptions{})
	if _, err := env.Store.Put(ctx, bk.ID, "data.bin", strings.NewReader("x"), files.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := env.Store.Head(ctx, bk.ID, "data.bin", ""); err != nil {
			b.Fatal(err)
		}
	}
}
