package cache

import (
	"github.com/repokit/repokit"
	"github.com/repokit/repokit/cache/driver"
)

// Sentinel errors; the driver-level ones are the same values as in package
// driver, so errors.Is matches whichever package a caller names. Each
// matches a repokit error kind (see package driver for the driver-level
// ones; ErrInvalid is repokit.ErrInvalid, the lock errors
// repokit.ErrConflict).
var (
	// ErrMiss reports that the key is not in the cache (or has expired).
	ErrMiss = driver.ErrMiss
	// ErrNotStored reports that Add found the key already present.
	ErrNotStored = driver.ErrNotStored
	// ErrInvalidKey reports an empty key or one the backend cannot hold
	// (Memcached: > 250 bytes, spaces, control characters).
	ErrInvalidKey = driver.ErrInvalidKey
	// ErrTooLarge reports a value above the cache's max_value_bytes or the
	// backend's own item limit.
	ErrTooLarge = driver.ErrTooLarge
	// ErrUnavailable reports that the server is down or did not answer within
	// the configured timeout.
	ErrUnavailable = driver.ErrUnavailable
	// ErrNotInteger reports Incr on a value that is not a decimal integer.
	ErrNotInteger = driver.ErrNotInteger
	// ErrClosed reports use of a closed cache.
	ErrClosed = driver.ErrClosed

	errMismatch = driver.ErrMismatch

	// ErrInvalid reports a bad argument other than the key (a lock ttl <= 0,
	// a nil loader, a bad URL parameter).
	ErrInvalid = repokit.NewError("cache: invalid argument", repokit.ErrInvalid)
	// ErrLocked reports that Acquire found the lock held by someone else.
	ErrLocked = repokit.NewError("cache: lock held by another owner", repokit.ErrConflict)
	// ErrNotOwner reports Renew or Release of a lock now held under another
	// token.
	ErrNotOwner = repokit.NewError("cache: lock held by another owner, not released", repokit.ErrConflict)
	// ErrLockLost reports Renew or Release of a lock that has expired and is
	// held by nobody.
	ErrLockLost = repokit.NewError("cache: lock expired", repokit.ErrConflict)
)
