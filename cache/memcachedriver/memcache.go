// Package memcachedriver is the Memcached cache driver
// (github.com/bradfitz/gomemcache). Importing it registers the URL scheme
//
//	memcache://host1:11211,host2:11211?timeout=1s&max_idle_conns=16&max_item_bytes=1MiB
//
// Keys are spread over the servers by gomemcache's CRC32 selector (host
// names are resolved once, when the URL is opened). Query parameters: timeout
// (dial and per-call socket timeout, default 1s; calls on a down or hung
// server fail with cache.ErrUnavailable within it), max_idle_conns (per server, default 4×GOMAXPROCS), max_item_bytes (the
// servers' -I item size limit, default 1MiB: larger values fail with
// cache.ErrTooLarge before they are sent).
//
// Memcached's rules apply: keys of at most 250 bytes without spaces or
// control characters (else cache.ErrInvalidKey), TTLs in whole seconds
// (rounded up), unsigned counters (a decrement stops at 0). gomemcache takes
// no context: a call is bounded by timeout, and ctx is checked before it.
package memcachedriver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/repokit/repokit/cache/driver"
)

// MaxKeyBytes is Memcached's key length limit.
const MaxKeyBytes = 250

// DefaultMaxItemBytes is Memcached's default item size limit (-I 1m).
const DefaultMaxItemBytes = 1 << 20

// itemOverhead approximates the bytes of a Memcached item besides key and
// value (header, CAS, suffix), which count against the item size limit.
const itemOverhead = 64

// Driver is the Memcached cache driver. It is safe for concurrent use.
type Driver struct {
	mc      *memcache.Client
	maxItem int
	tombTTL int32
	owned   bool

	closeOnce sync.Once
	closeErr  error
}

// Option configures a Driver made by New.
type Option func(*Driver)

// WithMaxItemBytes sets the servers' item size limit (their -I; default
// DefaultMaxItemBytes): larger values fail with cache.ErrTooLarge before
// they are sent.
func WithMaxItemBytes(n int) Option {
	return func(d *Driver) {
		if n > 0 {
			d.maxItem = n
		}
	}
}

// WithCloseClient makes the driver's Close close the client too (the
// driver then owns it). Without it the caller keeps ownership of a client
// it may share. Drivers opened from a URL own their client.
func WithCloseClient() Option { return func(d *Driver) { d.owned = true } }

var _ driver.Driver = (*Driver)(nil)

// New wraps a gomemcache client. Close does not close a client passed in
// this way unless WithCloseClient is given.
func New(mc *memcache.Client, opts ...Option) *Driver {
	d := &Driver{mc: mc, maxItem: DefaultMaxItemBytes, tombTTL: tombstoneTTL}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Client returns the underlying gomemcache client.
func (d *Driver) Client() *memcache.Client { return d.mc }

// MaxValueBytes returns the largest value a key of keyLen bytes can hold.
func (d *Driver) MaxValueBytes(keyLen int) int { return d.maxItem - keyLen - itemOverhead }

func checkKey(key string) error {
	if len(key) > MaxKeyBytes {
		return fmt.Errorf("%w: %d bytes, Memcached allows %d", driver.ErrInvalidKey, len(key), MaxKeyBytes)
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] == 0x7f {
			return fmt.Errorf("%w: Memcached keys cannot hold spaces or control characters (byte %d)", driver.ErrInvalidKey, i)
		}
	}
	return nil
}

func (d *Driver) check(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if value != nil && len(value) > d.MaxValueBytes(len(key)) {
		return fmt.Errorf("%w: %d bytes, over the Memcached item limit (%d bytes with key and overhead)",
			driver.ErrTooLarge, len(value), d.maxItem)
	}
	return nil
}

// expiration converts a ttl to Memcached's form: whole seconds rounded up,
// or an absolute Unix time beyond 30 days; 0 = never.
func expiration(ttl time.Duration) int32 {
	if ttl <= 0 {
		return 0
	}
	s := int64((ttl + time.Second - 1) / time.Second)
	if s > 30*24*3600 {
		return int32(time.Now().Unix() + s)
	}
	return int32(s)
}

// Get implements driver.Driver.
func (d *Driver) Get(ctx context.Context, key string) ([]byte, error) {
	if err := d.check(ctx, key, nil); err != nil {
		return nil, err
	}
	it, err := d.mc.Get(key)
	if err != nil {
		return nil, mapErr(err)
	}
	if it.Value == nil {
		return []byte{}, nil
	}
	return it.Value, nil
}

// GetMulti implements driver.Driver (one round trip per server).
func (d *Driver) GetMulti(ctx context.Context, keys []string) (map[string][]byte, error) {
	for _, k := range keys {
		if err := d.check(ctx, k, nil); err != nil {
			return nil, err
		}
	}
	items, err := d.mc.GetMulti(keys)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[string][]byte, len(items))
	for k, it := range items {
		v := it.Value
		if v == nil {
			v = []byte{}
		}
		out[k] = v
	}
	return out, nil
}

// Set implements driver.Driver.
func (d *Driver) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := d.check(ctx, key, value); err != nil {
		return err
	}
	return mapErr(d.mc.Set(&memcache.Item{Key: key, Value: value, Expiration: expiration(ttl)}))
}

// Add implements driver.Driver.
func (d *Driver) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := d.check(ctx, key, value); err != nil {
		return err
	}
	err := d.mc.Add(&memcache.Item{Key: key, Value: value, Expiration: expiration(ttl)})
	if errors.Is(err, memcache.ErrNotStored) {
		return driver.ErrNotStored
	}
	return mapErr(err)
}

// Delete implements driver.Driver.
func (d *Driver) Delete(ctx context.Context, key string) error {
	if err := d.check(ctx, key, nil); err != nil {
		return err
	}
	err := d.mc.Delete(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	return mapErr(err)
}

// Incr implements driver.Driver: incr/decr, creating an absent key with add
// (and retrying incr if another client created it first).
func (d *Driver) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := d.check(ctx, key, nil); err != nil {
		return 0, err
	}
	for range 5 {
		var n uint64
		var err error
		if delta >= 0 {
			n, err = d.mc.Increment(key, uint64(delta))
		} else {
			n, err = d.mc.Decrement(key, uint64(-delta))
		}
		if err == nil {
			return int64(n), nil
		}
		if !errors.Is(err, memcache.ErrCacheMiss) {
			return 0, mapErr(err)
		}
		init := max(delta, 0)
		err = d.mc.Add(&memcache.Item{Key: key, Value: strconv.AppendInt(nil, init, 10), Expiration: expiration(ttl)})
		if err == nil {
			return init, nil
		}
		if !errors.Is(err, memcache.ErrNotStored) {
			return 0, mapErr(err)
		}
	}
	return 0, fmt.Errorf("%w: memcached: incr of %q kept racing with deletes", driver.ErrUnavailable, key)
}

// tombstoneTTL is how long CompareAndDelete's tombstone lives (seconds). The
// plain delete that follows the tombstone is unconditional: had the
// tombstone already expired and another client added the key again, it
// would delete that client's value (a lock taken twice: seen with a
// one-second tombstone on a loaded machine). So the tombstone must outlive
// any stall between the two calls; if the delete fails, the key reads as
// absent but cannot be added for this long.
const tombstoneTTL = 30

// CompareAndDelete implements driver.Driver. Memcached's text protocol has no
// conditional delete, so the value is first swapped (gets + cas) for a
// tombstone (see tombstoneTTL), which makes us the only writer, then deleted.
// A lost cas race means the value changed: the check starts over.
func (d *Driver) CompareAndDelete(ctx context.Context, key string, old []byte) error {
	if err := d.check(ctx, key, nil); err != nil {
		return err
	}
	for range 10 {
		it, err := d.mc.Get(key)
		if err != nil {
			return mapErr(err)
		}
		if !bytes.Equal(it.Value, old) {
			return driver.ErrMismatch
		}
		it.Value = tombstone
		it.Expiration = d.tombTTL
		switch err := d.mc.CompareAndSwap(it); {
		case err == nil:
			if err := d.mc.Delete(key); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
				return mapErr(err)
			}
			return nil
		case errors.Is(err, memcache.ErrCASConflict):
			continue
		case errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
			return driver.ErrMiss
		default:
			return mapErr(err)
		}
	}
	return driver.ErrMismatch
}

// CompareAndTouch implements driver.Driver with gets + cas (same value, new
// expiration).
func (d *Driver) CompareAndTouch(ctx context.Context, key string, old []byte, ttl time.Duration) error {
	if err := d.check(ctx, key, nil); err != nil {
		return err
	}
	for range 10 {
		it, err := d.mc.Get(key)
		if err != nil {
			return mapErr(err)
		}
		if !bytes.Equal(it.Value, old) {
			return driver.ErrMismatch
		}
		it.Expiration = expiration(ttl)
		switch err := d.mc.CompareAndSwap(it); {
		case err == nil:
			return nil
		case errors.Is(err, memcache.ErrCASConflict):
			continue
		case errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
			return driver.ErrMiss
		default:
			return mapErr(err)
		}
	}
	return driver.ErrMismatch
}

// tombstone marks a key being deleted by CompareAndDelete; it can equal no
// lock token (tokens are base64).
var tombstone = []byte("\x00repokit-tombstone")

// Close implements driver.Driver: it closes the client if the driver owns it (opened from a URL, or
// WithCloseClient), and is idempotent.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		if d.owned {
			d.closeErr = d.mc.Close()
		}
	})
	return d.closeErr
}
