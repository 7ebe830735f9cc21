package redisdriver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache/driver"
)

// mapErr turns go-redis errors into the driver sentinels: redis.Nil is a
// miss; "not an integer" replies are ErrNotInteger; the caller's own
// cancellation is returned as is; everything else (refused or cut
// connections, timeouts, pool exhaustion, LOADING/MASTERDOWN/CLUSTERDOWN
// replies) means the server cannot serve us: ErrUnavailable, wrapping the cause.
func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return driver.ErrMiss
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) && errors.Is(err, context.Canceled) {
		return err
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		switch {
		case strings.Contains(msg, "not an integer"), strings.Contains(msg, "out of range"):
			return fmt.Errorf("%w: %s", driver.ErrNotInteger, msg)
		case strings.HasPrefix(msg, "WRONGTYPE"):
			return fmt.Errorf("redisdriver: %w", err)
		}
	}
	return fmt.Errorf("%w: redis: %w", driver.ErrUnavailable, err)
}
