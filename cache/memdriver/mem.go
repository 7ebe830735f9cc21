// Package memdriver is the embedded, in-process cache driver behind the
// "mem://" URL scheme: bounded by bytes, sharded for parallel access, with
// per-key TTLs and exact LRU eviction per shard.
//
// URL form: mem://?max_bytes=64MiB&shards=16
//
//   - max_bytes: total budget for keys, values and per-entry overhead
//     (default 64MiB; suffixes B, KB, KiB, MB, MiB, GB, GiB).
//   - shards: number of shards, rounded up to a power of two (default: from
//     GOMAXPROCS and max_bytes). One value must fit in one shard.
package memdriver

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"time"

	"github.com/repokit/repokit/cache/driver"
)

// DefaultMaxBytes is the budget of a mem cache opened without max_bytes.
const DefaultMaxBytes = 64 << 20

// entryOverhead approximates the bytes an entry costs beyond its key and
// value (slot, map bucket share, slice and string headers).
const entryOverhead = 96

type options struct {
	maxBytes int64
	shards   int
	now      func() time.Time
}

// Option configures a Driver made by New.
type Option func(*options)

// WithMaxBytes bounds keys+values+overhead (default DefaultMaxBytes; the
// URL's max_bytes).
func WithMaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

// WithShards sets the shard count, rounded up to a power of two (default:
// from GOMAXPROCS, keeping every shard at least 4 MiB where possible; the
// URL's shards).
func WithShards(n int) Option { return func(o *options) { o.shards = n } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Driver is the in-memory cache driver. Create it with New.
type Driver struct {
	shards []shard
	mask   uint64
	seed   maphash.Seed
	now    func() time.Time
}

var _ driver.Driver = (*Driver)(nil)

// New returns an empty in-memory driver.
func New(opts ...Option) *Driver {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.maxBytes <= 0 {
		o.maxBytes = DefaultMaxBytes
	}
	n := o.shards
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
		if n < 8 {
			n = 8
		}
		if n > 256 {
			n = 256
		}
		if fit := int(o.maxBytes / (4 << 20)); fit < n {
			n = max(fit, 1)
		}
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	if o.now == nil {
		o.now = time.Now
	}
	d := &Driver{shards: make([]shard, n), mask: uint64(n - 1), seed: maphash.MakeSeed(), now: o.now}
	per := o.maxBytes / int64(n)
	for i := range d.shards {
		d.shards[i].init(per)
	}
	return d
}

// MaxValueBytes returns the largest value a key of keyLen bytes can hold
// (the capacity of one shard minus overhead).
func (d *Driver) MaxValueBytes(keyLen int) int {
	return int(d.shards[0].limit) - keyLen - entryOverhead
}

// Len returns the number of entries held (expired ones not yet reclaimed
// included).
func (d *Driver) Len() int {
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// Bytes returns the accounted size of all entries.
func (d *Driver) Bytes() int64 {
	var n int64
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += s.used
		s.mu.Unlock()
	}
	return n
}

func (d *Driver) shard(key string) *shard {
	return &d.shards[maphash.String(d.seed, key)&d.mask]
}

func (d *Driver) expiry(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return d.now().Add(ttl).UnixNano()
}

func (d *Driver) clock() int64 { return d.now().UnixNano() }

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

func tooLarge(s *shard, key string, value []byte) error {
	if cost(key, value) > s.limit {
		return fmt.Errorf("%w: %d bytes over the %d-byte shard capacity of the mem cache",
			driver.ErrTooLarge, len(value), s.limit-int64(len(key))-entryOverhead)
	}
	return nil
}

func cost(key string, value []byte) int64 {
	return int64(len(key) + len(value) + entryOverhead)
}

// Get implements driver.Driver.
func (d *Driver) Get(ctx context.Context, key string) ([]byte, error) {
	s := d.shard(key)
	s.mu.Lock()
	i, ok := s.index[key]
	if !ok {
		s.mu.Unlock()
		return nil, driver.ErrMiss
	}
	e := &s.slots[i]
	if e.exp != 0 && d.clock() >= e.exp {
		s.remove(i)
		s.mu.Unlock()
		return nil, driver.ErrMiss
	}
	s.promote(i)
	out := append(make([]byte, 0, len(e.val)), e.val...) // caller-owned copy
	s.mu.Unlock()
	return out, nil
}

// GetMulti implements driver.Driver.
func (d *Driver) GetMulti(ctx context.Context, keys []string) (map[string][]byte, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		v, err := d.Get(ctx, k)
		if err == nil {
			out[k] = v
		}
	}
	return out, nil
}

// Set implements driver.Driver.
func (d *Driver) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s := d.shard(key)
	if err := tooLarge(s, key, value); err != nil {
		return err
	}
	exp := d.expiry(ttl)
	s.mu.Lock()
	s.put(key, value, exp)
	s.mu.Unlock()
	return nil
}

// Add implements driver.Driver.
func (d *Driver) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s := d.shard(key)
	if err := tooLarge(s, key, value); err != nil {
		return err
	}
	exp := d.expiry(ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live(key, d.clock()); ok {
		return driver.ErrNotStored
	}
	s.put(key, value, exp)
	return nil
}

// Delete implements driver.Driver.
func (d *Driver) Delete(ctx context.Context, key string) error {
	s := d.shard(key)
	s.mu.Lock()
	if i, ok := s.index[key]; ok {
		s.remove(i)
	}
	s.mu.Unlock()
	return nil
}

// Incr implements driver.Driver.
func (d *Driver) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := d.clock()
	if i, ok := s.live(key, now); ok {
		e := &s.slots[i]
		n, ok := parseInt(e.val)
		if !ok {
			return 0, driver.ErrNotInteger
		}
		n += delta
		var buf [20]byte
		s.put(key, appendInt(buf[:0], n), e.exp)
		return n, nil
	}
	var buf [20]byte
	s.put(key, appendInt(buf[:0], delta), d.expiry(ttl))
	return delta, nil
}

// CompareAndDelete implements driver.Driver.
func (d *Driver) CompareAndDelete(ctx context.Context, key string, old []byte) error {
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.live(key, d.clock())
	if !ok {
		return driver.ErrMiss
	}
	if string(s.slots[i].val) != string(old) {
		return driver.ErrMismatch
	}
	s.remove(i)
	return nil
}

// CompareAndTouch implements driver.Driver.
func (d *Driver) CompareAndTouch(ctx context.Context, key string, old []byte, ttl time.Duration) error {
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.live(key, d.clock())
	if !ok {
		return driver.ErrMiss
	}
	if string(s.slots[i].val) != string(old) {
		return driver.ErrMismatch
	}
	s.slots[i].exp = d.expiry(ttl)
	return nil
}

// Close implements driver.Driver; it drops every entry.
func (d *Driver) Close() error {
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		s.init(s.limit)
		s.mu.Unlock()
	}
	return nil
}
