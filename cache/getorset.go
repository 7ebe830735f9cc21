package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Loader computes a value for GetOrSet on a miss. It receives a context that
// keeps the caller's values but not its cancellation, because its result is
// shared with every concurrent caller of the same key.
type Loader func(ctx context.Context) ([]byte, error)

// LoadOption tunes GetOrSet.
type LoadOption func(*loadOpts)

type loadOpts struct {
	jitter float64
	swr    time.Duration
}

// WithJitter shortens each stored ttl by a random amount of up to fraction
// (0..1) of it, so keys filled together do not all expire together.
func WithJitter(fraction float64) LoadOption {
	return func(o *loadOpts) { o.jitter = min(max(fraction, 0), 1) }
}

// WithStaleWhileRevalidate keeps a value for d past its ttl: a read in that
// window returns the stale value at once while one background refresh runs
// the loader. Keys written this way hold a small envelope around the value,
// so read them through GetOrSet (or Typed.GetOrSet), not Get.
func WithStaleWhileRevalidate(d time.Duration) LoadOption {
	return func(o *loadOpts) { o.swr = max(d, 0) }
}

// envelopeMagic marks a value stored with stale-while-revalidate metadata:
// magic (4 bytes) | fresh-until Unix milliseconds (8 bytes, big endian) | value.
const envelopeMagic = "\x00rkS"

const envelopeHeader = len(envelopeMagic) + 8

func encodeEnvelope(v []byte, freshUntil time.Time) []byte {
	b := make([]byte, envelopeHeader+len(v))
	copy(b, envelopeMagic)
	binary.BigEndian.PutUint64(b[len(envelopeMagic):], uint64(freshUntil.UnixMilli()))
	copy(b[envelopeHeader:], v)
	return b
}

func decodeEnvelope(b []byte) (v []byte, freshUntil time.Time, ok bool) {
	if len(b) < envelopeHeader || string(b[:len(envelopeMagic)]) != envelopeMagic {
		return b, time.Time{}, false
	}
	ms := int64(binary.BigEndian.Uint64(b[len(envelopeMagic):]))
	return b[envelopeHeader:], time.UnixMilli(ms), true
}

// GetOrSet returns the value under key, or on a miss calls load, stores its
// result for ttl and returns it (cache-aside).
//
// Concurrent misses of one key in this process call load once and share its
// result (singleflight). When the cache server is unavailable, GetOrSet logs
// and returns load's result without storing it: a cache outage degrades to
// direct loading, never to an error. Errors from load are returned as they
// are and nothing is stored. Only an invalid key, a nil loader or the
// caller's context ending make GetOrSet fail on its own account.
func (c *Cache) GetOrSet(ctx context.Context, key string, ttl time.Duration, load Loader, opts ...LoadOption) ([]byte, error) {
	if load == nil {
		return nil, fmt.Errorf("%w: nil loader", ErrInvalid)
	}
	k, err := c.key(key)
	if err != nil {
		return nil, err
	}
	var o loadOpts
	for _, opt := range opts {
		opt(&o)
	}
	var b []byte
	if err = c.allow(); err == nil {
		b, err = c.drv.Get(ctx, k)
		err = c.observe(ctx, err)
	}
	degraded := false
	switch {
	case err == nil:
		if o.swr <= 0 {
			return b, nil
		}
		v, fresh, ok := decodeEnvelope(b)
		if ok && time.Now().After(fresh) {
			c.refresh(ctx, k, ttl, load, o)
		}
		return v, nil
	case errors.Is(err, ErrMiss):
	case errors.Is(err, ErrInvalidKey), errors.Is(err, ErrClosed):
		return nil, err
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		degraded = true
		c.log.Log(ctx, LogLevel(err), "cache: read failed, calling the loader directly", "key", k, "err", err)
	}

	ch := c.shared.flight.DoChan(k, func() (any, error) {
		lctx := context.WithoutCancel(ctx)
		if !degraded && c.allow() == nil {
			// Another flight may have filled the key since our read.
			b, err := c.drv.Get(lctx, k)
			if err = c.observe(lctx, err); err == nil {
				if o.swr > 0 {
					b, _, _ = decodeEnvelope(b)
				}
				return b, nil
			}
		}
		v, err := load(lctx)
		if err != nil {
			return nil, err
		}
		if !degraded {
			c.store(lctx, k, v, ttl, o)
		}
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		v := r.Val.([]byte)
		if r.Shared {
			v = bytes.Clone(v)
		}
		return v, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// store writes a loaded value, logging (not returning) failures: the caller
// has its value either way.
func (c *Cache) store(ctx context.Context, k string, v []byte, ttl time.Duration, o loadOpts) {
	if ttl > 0 && o.jitter > 0 {
		ttl -= time.Duration(rand.Int64N(int64(float64(ttl)*o.jitter) + 1))
		ttl = max(ttl, time.Millisecond)
	}
	val := v
	if o.swr > 0 {
		hard := time.Duration(0)
		if ttl > 0 {
			hard = ttl + o.swr
		}
		fresh := time.Now().Add(ttl)
		if ttl <= 0 {
			fresh = time.Now().Add(100 * 365 * 24 * time.Hour)
		}
		val = encodeEnvelope(v, fresh)
		ttl = hard
	}
	if err := c.checkValue(val); err != nil {
		c.log.WarnContext(ctx, "cache: loaded value not stored", "key", k, "err", err)
		return
	}
	if err := c.allow(); err != nil {
		return
	}
	if err := c.observe(ctx, c.drv.Set(ctx, k, val, ttl)); err != nil {
		c.log.Log(ctx, LogLevel(err), "cache: loaded value not stored", "key", k, "err", err)
	}
}

// refresh starts one background reload of a stale key unless one is running.
func (c *Cache) refresh(ctx context.Context, k string, ttl time.Duration, load Loader, o loadOpts) {
	sh := c.shared
	if _, busy := sh.refreshing.LoadOrStore(k, struct{}{}); busy {
		return
	}
	sh.closeMu.Lock()
	if sh.closed.Load() {
		sh.closeMu.Unlock()
		sh.refreshing.Delete(k)
		return
	}
	sh.bg.Add(1)
	sh.closeMu.Unlock()
	lctx := context.WithoutCancel(ctx)
	go func() {
		defer sh.bg.Done()
		defer sh.refreshing.Delete(k)
		v, err := load(lctx)
		if err != nil {
			c.log.WarnContext(lctx, "cache: background refresh failed, serving stale value", "key", k, "err", err)
			return
		}
		c.store(lctx, k, v, ttl, o)
	}()
}
