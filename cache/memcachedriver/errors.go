package memcachedriver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/repokit/repokit/cache/driver"
)

// mapErr turns gomemcache errors into the driver sentinels. Protocol answers
// are mapped one by one; network failures, timeouts and server errors mean
// the server cannot serve us: ErrUnavailable, wrapping the cause.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, memcache.ErrCacheMiss):
		return driver.ErrMiss
	case errors.Is(err, memcache.ErrNotStored):
		return driver.ErrNotStored
	case errors.Is(err, memcache.ErrMalformedKey):
		return fmt.Errorf("%w: %w", driver.ErrInvalidKey, err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "non-numeric value"), strings.Contains(msg, "invalid numeric delta"):
		return fmt.Errorf("%w: %s", driver.ErrNotInteger, msg)
	case strings.Contains(msg, "too large"):
		return fmt.Errorf("%w: %s", driver.ErrTooLarge, msg)
	}
	return fmt.Errorf("%w: memcached: %w", driver.ErrUnavailable, err)
}
