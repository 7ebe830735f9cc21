// Package driver defines the interface a cache backend implements so that the
// portable cache.Cache can run on top of it, and the sentinel errors drivers
// return. Host applications use package cache; only driver authors import
// this package.
package driver

import (
	"context"
	"net/url"
	"time"

	"github.com/repokit/repokit"
)

// Sentinel errors. Drivers return these (possibly wrapped with %w); package
// cache re-exports them under the same names so errors.Is works with either.
// Each matches a repokit error kind: ErrMiss repokit.ErrNotFound, ErrNotStored
// repokit.ErrExists, ErrInvalidKey and ErrNotInteger repokit.ErrInvalid,
// ErrMismatch repokit.ErrConflict, the others the kind of the same name.
var (
	// ErrMiss reports that the key is not in the cache (or has expired).
	ErrMiss = repokit.NewError("cache: miss", repokit.ErrNotFound)
	// ErrNotStored reports that Add found the key already present.
	ErrNotStored = repokit.NewError("cache: not stored: key exists", repokit.ErrExists)
	// ErrInvalidKey reports a key the cache cannot hold: empty, or (on
	// Memcached) longer than 250 bytes or containing spaces or control characters.
	ErrInvalidKey = repokit.NewError("cache: invalid key", repokit.ErrInvalid)
	// ErrTooLarge reports a value over the configured or backend size limit.
	ErrTooLarge = repokit.NewError("cache: value too large", repokit.ErrTooLarge)
	// ErrUnavailable reports that the cache server could not be reached or did
	// not answer within the configured timeout.
	ErrUnavailable = repokit.NewError("cache: server unavailable", repokit.ErrUnavailable)
	// ErrMismatch reports that a compare-and-delete or compare-and-touch found
	// a different value under the key.
	ErrMismatch = repokit.NewError("cache: value mismatch", repokit.ErrConflict)
	// ErrNotInteger reports Incr on a value that is not a decimal integer.
	ErrNotInteger = repokit.NewError("cache: value is not an integer", repokit.ErrInvalid)
	// ErrClosed reports use of a closed cache.
	ErrClosed = repokit.NewError("cache: closed", repokit.ErrClosed)
)

// Driver is a cache backend. Keys given to a driver are complete (prefix
// applied) and non-empty; values are never retained after a call returns,
// and returned slices belong to the caller. A ttl <= 0 means no expiry.
// Every method is safe for concurrent use.
type Driver interface {
	// Get returns the value under key or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetMulti returns the values of the keys that are present; missing keys
	// are absent from the map.
	GetMulti(ctx context.Context, keys []string) (map[string][]byte, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Add stores value only if key is absent; otherwise it returns ErrNotStored.
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds delta to the decimal integer stored under key and returns the
	// new value. An absent key is created holding delta, with ttl.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	// CompareAndDelete deletes key only if it holds exactly old: ErrMiss if
	// absent, ErrMismatch if it holds something else. Atomic.
	CompareAndDelete(ctx context.Context, key string, old []byte) error
	// CompareAndTouch resets key's ttl only if it holds exactly old: ErrMiss
	// if absent, ErrMismatch if it holds something else. Atomic.
	CompareAndTouch(ctx context.Context, key string, old []byte, ttl time.Duration) error
	// Close releases the driver's resources.
	Close() error
}

// URLOpener opens a Driver from a URL. The portable cache package strips its
// own query parameters (prefix, max_value_bytes) before calling it; any other
// parameter the opener does not know must be rejected with an error.
type URLOpener interface {
	OpenCacheURL(ctx context.Context, u *url.URL) (Driver, error)
}
