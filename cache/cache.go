package cache

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/repokit/repokit/cache/driver"
)

// Cache is the portable cache. It is safe for concurrent use. Create one with
// Open (from a URL) or New (from a driver); derive namespaced views with
// Namespace. The zero value is not usable.
type Cache struct {
	drv      driver.Driver
	prefix   string
	maxValue int
	codec    Codec
	log      *slog.Logger
	shared   *shared
}

// shared is the state every namespace of one root cache shares.
type shared struct {
	flight     singleflight.Group
	refreshing sync.Map       // keys with a background refresh running
	bg         sync.WaitGroup // background stale-while-revalidate refreshes
	closed     atomic.Bool
	closeMu    sync.Mutex
	cooldown   time.Duration // circuit breaker; 0 = off
	downUntil  atomic.Int64  // Unix ns until which calls fail fast; 0 = closed
}

// New returns a Cache over drv, like database/sql's OpenDB over a
// connector. The Cache owns drv: Close closes it. ctx is not used today; it
// is there for symmetry with every other RepoKit constructor that takes a
// driver. A nil driver or a negative WithMaxValueBytes is ErrInvalid.
func New(ctx context.Context, drv driver.Driver, opts ...Option) (*Cache, error) {
	if drv == nil {
		return nil, fmt.Errorf("%w: cache.New needs a driver", ErrInvalid)
	}
	c := &Cache{drv: drv, codec: JSON{}, log: slog.Default(), shared: &shared{cooldown: DefaultBreakerCooldown}}
	for _, o := range opts {
		o(c)
	}
	if c.maxValue < 0 {
		return nil, fmt.Errorf("%w: max value bytes %d < 0", ErrInvalid, c.maxValue)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Namespace returns a view of c whose keys are prefixed with name and ":"
// (nested under c's own prefix). The view shares c's driver and settings;
// closing the root closes every view.
func (c *Cache) Namespace(name string) *Cache {
	n := *c
	n.prefix = c.prefix + name + ":"
	return &n
}

// Prefix returns the prefix applied to every key of c.
func (c *Cache) Prefix() string { return c.prefix }

// Driver returns the underlying driver (for driver-specific features).
func (c *Cache) Driver() driver.Driver { return c.drv }

// Codec returns the cache's default codec.
func (c *Cache) Codec() Codec { return c.codec }

func (c *Cache) key(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if c.shared.closed.Load() {
		return "", ErrClosed
	}
	if c.prefix == "" {
		return key, nil
	}
	return c.prefix + key, nil
}

func (c *Cache) checkValue(value []byte) error {
	if c.maxValue > 0 && len(value) > c.maxValue {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(value), c.maxValue)
	}
	return nil
}

// Get returns the value stored under key; errors.Is(err, ErrMiss) when the
// key is absent or expired. The returned slice belongs to the caller.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := c.key(key)
	if err != nil {
		return nil, err
	}
	if err := c.allow(); err != nil {
		return nil, err
	}
	v, err := c.drv.Get(ctx, k)
	return v, c.observe(ctx, err)
}

// GetMulti returns the values of the keys that are present, keyed as given;
// absent keys are left out of the map.
func (c *Cache) GetMulti(ctx context.Context, keys []string) (map[string][]byte, error) {
	if len(keys) == 0 {
		return map[string][]byte{}, nil
	}
	full := make([]string, len(keys))
	for i, key := range keys {
		k, err := c.key(key)
		if err != nil {
			return nil, err
		}
		full[i] = k
	}
	if err := c.allow(); err != nil {
		return nil, err
	}
	m, err := c.drv.GetMulti(ctx, full)
	if err := c.observe(ctx, err); err != nil {
		return nil, err
	}
	if c.prefix == "" {
		return m, nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[strings.TrimPrefix(k, c.prefix)] = v
	}
	return out, nil
}

// Set stores value under key for ttl (ttl <= 0: no expiry, though the backend
// may still evict it).
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	k, err := c.key(key)
	if err != nil {
		return err
	}
	if err := c.checkValue(value); err != nil {
		return err
	}
	if err := c.allow(); err != nil {
		return err
	}
	return c.observe(ctx, c.drv.Set(ctx, k, value, ttl))
}

// Add stores value under key only if the key is absent; otherwise it returns
// ErrNotStored. Atomic on every driver.
func (c *Cache) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	k, err := c.key(key)
	if err != nil {
		return err
	}
	if err := c.checkValue(value); err != nil {
		return err
	}
	if err := c.allow(); err != nil {
		return err
	}
	return c.observe(ctx, c.drv.Add(ctx, k, value, ttl))
}

// Delete removes key. Deleting an absent key is not an error.
func (c *Cache) Delete(ctx context.Context, key string) error {
	k, err := c.key(key)
	if err != nil {
		return err
	}
	if err := c.allow(); err != nil {
		return err
	}
	return c.observe(ctx, c.drv.Delete(ctx, k))
}

// Incr atomically adds delta to the decimal integer stored under key and
// returns the result; an absent key is created holding delta and expiring
// after ttl (an existing key keeps its expiry). Values are stored as decimal
// text, so Get returns e.g. "42". Memcached stores unsigned counters: there a
// decrement below zero stops at 0.
func (c *Cache) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	k, err := c.key(key)
	if err != nil {
		return 0, err
	}
	if err := c.allow(); err != nil {
		return 0, err
	}
	n, err := c.drv.Incr(ctx, k, delta, ttl)
	return n, c.observe(ctx, err)
}

// Close waits for background refreshes started by GetOrSet and closes the
// driver. Calling Close on a namespace closes the root cache too.
func (c *Cache) Close() error {
	c.shared.closeMu.Lock()
	already := c.shared.closed.Swap(true)
	c.shared.closeMu.Unlock()
	if already {
		return nil
	}
	c.shared.bg.Wait()
	return c.drv.Close()
}
