package drivertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/repokit/repokit/cache"
)

func testBasic(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	if _, err := c.Get(ctx, "absent"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get absent: err = %v, want ErrMiss", err)
	}
	values := map[string][]byte{
		"text":   []byte("hello"),
		"binary": {0, 1, 2, 0xff, '\r', '\n', 0},
		"empty":  {},
		"big":    bytes.Repeat([]byte("x"), 100<<10),
	}
	for k, v := range values {
		if err := c.Set(ctx, k, v, 0); err != nil {
			t.Fatalf("Set %s: %v", k, err)
		}
	}
	for k, v := range values {
		got, err := c.Get(ctx, k)
		if err != nil || !bytes.Equal(got, v) || got == nil {
			t.Fatalf("Get %s = %q (nil=%v), %v; want %d bytes", k, short(got), got == nil, err, len(v))
		}
	}
	// The returned slice belongs to the caller: mutating it changes nothing.
	got, _ := c.Get(ctx, "text")
	got[0] = 'J'
	if again, _ := c.Get(ctx, "text"); string(again) != "hello" {
		t.Fatalf("cached value changed through a returned slice: %q", again)
	}
	// Overwrite with a different size.
	if err := c.Set(ctx, "text", []byte("hi"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "text"); string(got) != "hi" {
		t.Fatalf("after overwrite Get = %q", got)
	}
	if err := c.Delete(ctx, "text"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Get(ctx, "text"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get after Delete: err = %v, want ErrMiss", err)
	}
	if err := c.Delete(ctx, "text"); err != nil {
		t.Fatalf("Delete of an absent key: %v, want nil", err)
	}
}

func testAdd(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	if err := c.Add(ctx, "k", []byte("first"), 0); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := c.Add(ctx, "k", []byte("second"), 0); !errors.Is(err, cache.ErrNotStored) {
		t.Fatalf("second Add: err = %v, want ErrNotStored", err)
	}
	if got, _ := c.Get(ctx, "k"); string(got) != "first" {
		t.Fatalf("value after failed Add = %q, want first", got)
	}
	_ = c.Delete(ctx, "k")
	if err := c.Add(ctx, "k", []byte("third"), 0); err != nil {
		t.Fatalf("Add after Delete: %v", err)
	}
	// Concurrent Adds of one key: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := c.Add(ctx, "race", []byte(fmt.Sprint(i)), 0)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, cache.ErrNotStored):
				t.Errorf("concurrent Add: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d of 20 concurrent Adds succeeded, want 1", wins.Load())
	}
}

func testGetMulti(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	for i := range 5 {
		if err := c.Set(ctx, fmt.Sprint("m", i), []byte(fmt.Sprint("v", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetMulti(ctx, []string{"m0", "m2", "nope", "m4"})
	if err != nil {
		t.Fatalf("GetMulti: %v", err)
	}
	if len(got) != 3 || string(got["m0"]) != "v0" || string(got["m2"]) != "v2" || string(got["m4"]) != "v4" {
		t.Fatalf("GetMulti = %q", got)
	}
	if _, ok := got["nope"]; ok {
		t.Fatal("GetMulti returned an absent key")
	}
	if got, err := c.GetMulti(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("GetMulti(nil) = %v, %v", got, err)
	}
}

func testIncr(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	n, err := c.Incr(ctx, "n", 5, 0)
	if err != nil || n != 5 {
		t.Fatalf("Incr new = %d, %v; want 5", n, err)
	}
	if n, err = c.Incr(ctx, "n", 3, 0); err != nil || n != 8 {
		t.Fatalf("Incr = %d, %v; want 8", n, err)
	}
	if n, err = c.Incr(ctx, "n", -2, 0); err != nil || n != 6 {
		t.Fatalf("Incr -2 = %d, %v; want 6", n, err)
	}
	if got, _ := c.Get(ctx, "n"); string(got) != "6" {
		t.Fatalf("Get counter = %q, want \"6\"", got)
	}
	// Concurrent increments are atomic.
	errc := make(chan error, 20)
	for range 20 {
		go func() { _, err := c.Incr(ctx, "par", 1, 0); errc <- err }()
	}
	for range 20 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.Get(ctx, "par"); string(got) != "20" {
		t.Fatalf("after 20 concurrent Incr: %q", got)
	}
	_ = c.Set(ctx, "text", []byte("abc"), 0)
	if _, err := c.Incr(ctx, "text", 1, 0); !errors.Is(err, cache.ErrNotInteger) {
		t.Fatalf("Incr on text: err = %v, want ErrNotInteger", err)
	}
}

func testNamespace(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	a, b := c.Namespace("a"), c.Namespace("b")
	if err := a.Set(ctx, "k", []byte("A"), 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "k", []byte("B"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Get(ctx, "k"); string(got) != "A" {
		t.Fatalf("a/k = %q", got)
	}
	if got, _ := b.Get(ctx, "k"); string(got) != "B" {
		t.Fatalf("b/k = %q", got)
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("root sees namespaced key: %v", err)
	}
	if got, _ := c.Get(ctx, "a:k"); string(got) != "A" {
		t.Fatalf("namespace is not prefix+name+\":\": %q", got)
	}
	m, err := a.GetMulti(ctx, []string{"k"})
	if err != nil || string(m["k"]) != "A" {
		t.Fatalf("namespaced GetMulti = %q, %v", m, err)
	}
}

type doc struct {
	Title string   `json:"title"`
	Tags  []string `json:"tags"`
	N     int      `json:"n"`
}

func testTyped(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	in := doc{Title: "Zenodo", Tags: []string{"a", "b"}, N: 7}
	if err := cache.SetJSON(ctx, c, "d", in, 0); err != nil {
		t.Fatal(err)
	}
	out, err := cache.GetJSON[doc](ctx, c, "d")
	if err != nil || out.Title != in.Title || len(out.Tags) != 2 || out.N != 7 {
		t.Fatalf("GetJSON = %+v, %v", out, err)
	}
	if raw, _ := c.Get(ctx, "d"); !strings.Contains(string(raw), `"title":"Zenodo"`) {
		t.Fatalf("stored JSON = %s", raw)
	}
	if _, err := cache.GetJSON[doc](ctx, c, "none"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("GetJSON miss: %v", err)
	}
	_ = c.Set(ctx, "bad", []byte("{not json"), 0)
	if _, err := cache.GetJSON[doc](ctx, c, "bad"); !errors.Is(err, cache.ErrInvalid) {
		t.Fatalf("GetJSON of garbage: %v, want ErrInvalid", err)
	}
	// A pluggable codec.
	typed := cache.NewTyped[doc](c.Namespace("rev"), reverseJSON{})
	if err := typed.Set(ctx, "x", in, 0); err != nil {
		t.Fatal(err)
	}
	if raw, _ := c.Namespace("rev").Get(ctx, "x"); len(raw) == 0 || raw[0] != '}' {
		t.Fatalf("custom codec not used: %q", raw)
	}
	if got, err := typed.Get(ctx, "x"); err != nil || got.Title != "Zenodo" {
		t.Fatalf("typed Get = %+v, %v", got, err)
	}
	calls := 0
	for range 2 {
		got, err := typed.GetOrSet(ctx, "loaded", 0, func(context.Context) (doc, error) {
			calls++
			return doc{Title: "loaded"}, nil
		})
		if err != nil || got.Title != "loaded" {
			t.Fatalf("typed GetOrSet = %+v, %v", got, err)
		}
	}
	if calls != 1 {
		t.Fatalf("typed GetOrSet loader calls = %d, want 1", calls)
	}
	m, err := typed.GetMulti(ctx, []string{"x", "loaded", "none"})
	if err != nil || len(m) != 2 || m["loaded"].Title != "loaded" {
		t.Fatalf("typed GetMulti = %+v, %v", m, err)
	}
}

// reverseJSON is a test codec: JSON with its bytes reversed.
type reverseJSON struct{}

// Marshal encodes v as reversed JSON.
func (reverseJSON) Marshal(v any) ([]byte, error) {
	b, err := cache.JSON{}.Marshal(v)
	reverse(b)
	return b, err
}

// Unmarshal decodes reversed JSON.
func (reverseJSON) Unmarshal(data []byte, v any) error {
	b := append([]byte(nil), data...)
	reverse(b)
	return cache.JSON{}.Unmarshal(b, v)
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

func testBadInput(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h, cache.WithMaxValueBytes(1000))
	if err := c.Set(ctx, "", []byte("x"), 0); !errors.Is(err, cache.ErrInvalidKey) {
		t.Fatalf("Set empty key: %v, want ErrInvalidKey", err)
	}
	if _, err := c.Get(ctx, ""); !errors.Is(err, cache.ErrInvalidKey) {
		t.Fatalf("Get empty key: %v, want ErrInvalidKey", err)
	}
	if _, err := c.GetOrSet(ctx, "", 0, func(context.Context) ([]byte, error) { return []byte("x"), nil }); !errors.Is(err, cache.ErrInvalidKey) {
		t.Fatalf("GetOrSet empty key: %v, want ErrInvalidKey", err)
	}
	if err := c.Set(ctx, "big", make([]byte, 1001), 0); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("Set over max_value_bytes: %v, want ErrTooLarge", err)
	}
	if err := c.Add(ctx, "big", make([]byte, 1001), 0); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("Add over max_value_bytes: %v, want ErrTooLarge", err)
	}
	if _, err := c.Get(ctx, "big"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("rejected value was stored: %v", err)
	}
	if err := c.Set(ctx, "fits", make([]byte, 1000), 0); err != nil {
		t.Fatalf("Set at the limit: %v", err)
	}
	if h.DriverMaxValueBytes > 0 {
		raw := open(t, h)
		if err := raw.Set(ctx, "huge", make([]byte, h.DriverMaxValueBytes+1), 0); !errors.Is(err, cache.ErrTooLarge) {
			t.Fatalf("Set over the driver's item limit: %v, want ErrTooLarge", err)
		}
		if _, err := raw.Get(ctx, "huge"); !errors.Is(err, cache.ErrMiss) {
			t.Fatalf("value over the driver limit was stored: %v", err)
		}
	}
	odd := []string{"with space", "tab\there", "new\nline", strings.Repeat("k", 251)}
	for _, k := range odd {
		err := c.Set(ctx, k, []byte("v"), 0)
		if h.RejectsKeySpaces {
			if !errors.Is(err, cache.ErrInvalidKey) {
				t.Fatalf("Set(%q): %v, want ErrInvalidKey", short([]byte(k)), err)
			}
			if _, err := c.Get(ctx, k); !errors.Is(err, cache.ErrInvalidKey) {
				t.Fatalf("Get(%q): %v, want ErrInvalidKey", short([]byte(k)), err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Set(%q): %v", short([]byte(k)), err)
		}
		if got, err := c.Get(ctx, k); err != nil || string(got) != "v" {
			t.Fatalf("Get(%q) = %q, %v", short([]byte(k)), got, err)
		}
	}
	// A failed call leaves the cache usable.
	if err := c.Set(ctx, "ok", []byte("v"), 0); err != nil {
		t.Fatalf("Set after bad input: %v", err)
	}
}

func short(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
