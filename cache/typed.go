package cache

import (
	"context"
	"fmt"
	"time"
)

// Typed is a typed view of a Cache: values of type T encoded with a Codec.
//
//	users := cache.NewTyped[User](c.Namespace("users"), nil) // JSON
//	u, err := users.Get(ctx, id)
type Typed[T any] struct {
	c     *Cache
	codec Codec
}

// NewTyped returns a typed view of c using codec (nil: c's default codec,
// JSON unless WithCodec said otherwise).
func NewTyped[T any](c *Cache, codec Codec) *Typed[T] {
	if codec == nil {
		codec = c.codec
	}
	return &Typed[T]{c: c, codec: codec}
}

// Cache returns the underlying cache.
func (t *Typed[T]) Cache() *Cache { return t.c }

// Get decodes the value under key; ErrMiss if absent. A value that does not
// decode is reported as an error wrapping ErrInvalid.
func (t *Typed[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	b, err := t.c.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := t.codec.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%w: decode %q: %w", ErrInvalid, key, err)
	}
	return v, nil
}

// Set encodes v and stores it under key for ttl.
func (t *Typed[T]) Set(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := t.codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encode %q: %w", ErrInvalid, key, err)
	}
	return t.c.Set(ctx, key, b, ttl)
}

// Add encodes v and stores it only if key is absent (ErrNotStored otherwise).
func (t *Typed[T]) Add(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := t.codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encode %q: %w", ErrInvalid, key, err)
	}
	return t.c.Add(ctx, key, b, ttl)
}

// Delete removes key.
func (t *Typed[T]) Delete(ctx context.Context, key string) error { return t.c.Delete(ctx, key) }

// GetMulti decodes the present keys; a value that fails to decode is an error.
func (t *Typed[T]) GetMulti(ctx context.Context, keys []string) (map[string]T, error) {
	m, err := t.c.GetMulti(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(m))
	for k, b := range m {
		var v T
		if err := t.codec.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%w: decode %q: %w", ErrInvalid, k, err)
		}
		out[k] = v
	}
	return out, nil
}

// GetOrSet is Cache.GetOrSet for typed values: on a miss load runs once per
// key across concurrent callers and its result is encoded and stored.
func (t *Typed[T]) GetOrSet(ctx context.Context, key string, ttl time.Duration,
	load func(ctx context.Context) (T, error), opts ...LoadOption) (T, error) {
	var v T
	b, err := t.c.GetOrSet(ctx, key, ttl, func(ctx context.Context) ([]byte, error) {
		lv, err := load(ctx)
		if err != nil {
			return nil, err
		}
		b, err := t.codec.Marshal(lv)
		if err != nil {
			return nil, fmt.Errorf("%w: encode %q: %w", ErrInvalid, key, err)
		}
		return b, nil
	}, opts...)
	if err != nil {
		return v, err
	}
	if err := t.codec.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%w: decode %q: %w", ErrInvalid, key, err)
	}
	return v, nil
}

// GetJSON reads key from c and decodes it as JSON into a T.
func GetJSON[T any](ctx context.Context, c *Cache, key string) (T, error) {
	return NewTyped[T](c, JSON{}).Get(ctx, key)
}

// SetJSON encodes v as JSON and stores it under key for ttl.
func SetJSON[T any](ctx context.Context, c *Cache, key string, v T, ttl time.Duration) error {
	return NewTyped[T](c, JSON{}).Set(ctx, key, v, ttl)
}

// GetAs reads key from c and decodes it with c's default codec.
func GetAs[T any](ctx context.Context, c *Cache, key string) (T, error) {
	return NewTyped[T](c, nil).Get(ctx, key)
}

// SetAs encodes v with c's default codec and stores it under key for ttl.
func SetAs[T any](ctx context.Context, c *Cache, key string, v T, ttl time.Duration) error {
	return NewTyped[T](c, nil).Set(ctx, key, v, ttl)
}
