package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/repokit/repokit/cache"
)

func Example() {
	ctx := context.Background()
	c, err := cache.Open(ctx, "mem://?max_bytes=64MiB&prefix=app:")
	if err != nil {
		panic(err)
	}
	defer c.Close()

	_ = c.Set(ctx, "greeting", []byte("hello"), time.Minute)
	v, _ := c.Get(ctx, "greeting")
	fmt.Println(string(v))

	if _, err := c.Get(ctx, "absent"); errors.Is(err, cache.ErrMiss) {
		fmt.Println("miss")
	}
	// Output:
	// hello
	// miss
}

func ExampleCache_GetOrSet() {
	ctx := context.Background()
	c, _ := cache.Open(ctx, "mem://")
	defer c.Close()
	load := func(ctx context.Context) ([]byte, error) {
		fmt.Println("loading")
		return []byte("expensive"), nil
	}
	for range 2 {
		v, _ := c.GetOrSet(ctx, "report", 10*time.Minute, load, cache.WithJitter(0.1))
		fmt.Println(string(v))
	}
	// Output:
	// loading
	// expensive
	// expensive
}

func ExampleTyped() {
	type User struct{ Name string }
	ctx := context.Background()
	c, _ := cache.Open(ctx, "mem://")
	defer c.Close()
	users := cache.NewTyped[User](c.Namespace("users"), nil) // JSON codec
	_ = users.Set(ctx, "42", User{Name: "Ada"}, time.Hour)
	u, _ := users.Get(ctx, "42")
	fmt.Println(u.Name)
	// Output: Ada
}

func ExampleCache_Acquire() {
	ctx := context.Background()
	c, _ := cache.Open(ctx, "mem://")
	defer c.Close()
	l, err := c.Acquire(ctx, "reindex", 30*time.Second)
	if err != nil {
		return // errors.Is(err, cache.ErrLocked): someone else is reindexing
	}
	defer l.Release(ctx)
	_, err = c.Acquire(ctx, "reindex", 30*time.Second)
	fmt.Println(errors.Is(err, cache.ErrLocked))
	// Output: true
}
