package cache

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// lockPrefix keeps lock keys apart from data keys of the same name.
const lockPrefix = "lock:"

// Lock is a lease on a key held under a random token. Only the holder of the
// token can Renew or Release it: on Redis the check-and-act is a Lua script,
// on Memcached a gets+CAS, in memory a shard mutex. (Invenio's lock lets
// anyone release it.) A Lock expires by itself after its ttl unless renewed.
type Lock struct {
	c     *Cache
	key   string // user key, without lockPrefix
	token string
}

// LockOption tunes Acquire.
type LockOption func(*lockOpts)

type lockOpts struct{ retry time.Duration }

// WithRetry makes Acquire wait for a held lock, trying again every interval
// until it gets the lock or ctx ends (then it returns ErrLocked).
func WithRetry(interval time.Duration) LockOption {
	return func(o *lockOpts) { o.retry = interval }
}

// Acquire takes the lock named key for ttl (> 0). It returns ErrLocked when
// another owner holds it (after waiting, with WithRetry).
func (c *Cache) Acquire(ctx context.Context, key string, ttl time.Duration, opts ...LockOption) (*Lock, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("%w: lock ttl must be > 0, got %v", ErrInvalid, ttl)
	}
	var o lockOpts
	for _, opt := range opts {
		opt(&o)
	}
	token := newToken()
	for {
		err := c.Add(ctx, lockPrefix+key, []byte(token), ttl)
		if err == nil {
			return &Lock{c: c, key: key, token: token}, nil
		}
		if !errors.Is(err, ErrNotStored) {
			if o.retry > 0 && ctx.Err() != nil {
				// The wait ran out during an attempt: the caller gave up
				// waiting, as when it runs out between two attempts.
				return nil, fmt.Errorf("%w: %q (gave up: %w)", ErrLocked, key, err)
			}
			return nil, err
		}
		if o.retry <= 0 {
			return nil, fmt.Errorf("%w: %q", ErrLocked, key)
		}
		t := time.NewTimer(o.retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %q (gave up: %w)", ErrLocked, key, ctx.Err())
		case <-t.C:
		}
	}
}

// LockWithToken rebuilds a Lock from its key and token, e.g. in another
// process that was handed the token. It does not check that the lock is held.
func (c *Cache) LockWithToken(key, token string) *Lock {
	return &Lock{c: c, key: key, token: token}
}

// Key returns the lock's name as given to Acquire.
func (l *Lock) Key() string { return l.key }

// Token returns the random token proving ownership.
func (l *Lock) Token() string { return l.token }

// Renew extends the lock to ttl from now, only if l still owns it:
// ErrNotOwner if another owner holds it, ErrLockLost if it expired.
func (l *Lock) Renew(ctx context.Context, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: lock ttl must be > 0, got %v", ErrInvalid, ttl)
	}
	k, err := l.c.key(lockPrefix + l.key)
	if err != nil {
		return err
	}
	if err := l.c.allow(); err != nil {
		return err
	}
	return lockErr(l.key, l.c.observe(ctx, l.c.drv.CompareAndTouch(ctx, k, []byte(l.token), ttl)))
}

// Release frees the lock, only if l still owns it: ErrNotOwner if another
// owner holds it (nothing is deleted), ErrLockLost if it already expired.
func (l *Lock) Release(ctx context.Context) error {
	k, err := l.c.key(lockPrefix + l.key)
	if err != nil {
		return err
	}
	if err := l.c.allow(); err != nil {
		return err
	}
	return lockErr(l.key, l.c.observe(ctx, l.c.drv.CompareAndDelete(ctx, k, []byte(l.token))))
}

func lockErr(key string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrMiss):
		return fmt.Errorf("%w: %q", ErrLockLost, key)
	case errors.Is(err, errMismatch):
		return fmt.Errorf("%w: %q", ErrNotOwner, key)
	}
	return err
}

// newToken returns 128 random bits, URL-safe base64 encoded.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
