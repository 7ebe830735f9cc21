// Package cache is RepoKit's portable cache: one API over pluggable drivers
// opened from URLs, the Go counterpart of what Invenio keeps in Redis or
// Memcached (sessions, task results, rendered pages, locks).
//
//	c, err := cache.Open(ctx, "mem://?max_bytes=64MiB")          // embedded default
//	c, err := cache.Open(ctx, "redis://127.0.0.1:6379/0")         // import _ ".../cache/redisdriver"
//	c, err := cache.Open(ctx, "memcache://10.0.0.1:11211,10.0.0.2:11211") // import _ ".../cache/memcachedriver"
//
// Every URL accepts prefix=NAME (a key prefix for this cache),
// max_value_bytes=SIZE (values above it fail with ErrTooLarge) and
// breaker=DURATION (after the server fails, skip it for that long instead of
// waiting for a timeout on every call; default 1s, 0 disables); the remaining
// parameters belong to the driver (timeout, max_bytes, ...).
//
// Beyond Get/Set/Add/Delete/GetMulti/Incr the package offers cache-aside
// loading with singleflight (GetOrSet), generic typed access (Typed,
// GetJSON), and owner-checked locks (Acquire). Sessions and a page cache live
// in the session and pagecache subpackages; every driver passes the
// conformance suite in drivertest.
//
// Errors are sentinels testable with errors.Is: ErrMiss, ErrNotStored,
// ErrInvalidKey, ErrTooLarge, ErrUnavailable (server down or too slow: the
// drivers fail fast within their timeout), ErrLocked, ErrNotOwner,
// ErrLockLost.
package cache
