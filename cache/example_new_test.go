package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/memdriver"
)

// New builds a cache over a driver made in code instead of from a URL;
// the cache owns the driver and closes it.
func ExampleNew() {
	ctx := context.Background()
	drv := memdriver.New(memdriver.WithMaxBytes(16<<20), memdriver.WithShards(4))
	c, err := cache.New(ctx, drv, cache.WithPrefix("app:"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_ = c.Set(ctx, "k", []byte("v"), time.Minute)
	v, _ := c.Get(ctx, "k")
	fmt.Println(string(v))
	// Output: v
}
