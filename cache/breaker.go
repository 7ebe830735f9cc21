package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/repokit/repokit"
)

// DefaultBreakerCooldown is how long a cache skips its server after a call
// failed with ErrUnavailable, unless WithBreaker says otherwise.
const DefaultBreakerCooldown = time.Second

// WithBreaker sets the circuit breaker's cooldown: after a call fails with
// ErrUnavailable, calls during the next d fail at once with ErrUnavailable
// instead of each waiting for the driver's timeout; then one call probes the
// server while the others keep failing fast until it answers. 0 disables the
// breaker. Default DefaultBreakerCooldown. (URL parameter: breaker=1s.)
func WithBreaker(d time.Duration) Option { return func(c *Cache) { c.shared.cooldown = max(d, 0) } }

// ErrCircuitOpen is returned, together with ErrUnavailable, by calls the
// breaker stopped before they reached the server. Only the failure that
// opened the circuit lacks it, which lets callers log an outage once rather
// than on every request (see LogLevel). Kind repokit.ErrUnavailable.
var ErrCircuitOpen = repokit.NewError("cache: circuit open after a recent failure; server not called", repokit.ErrUnavailable)

// LogLevel returns the level at which to log a cache error while degrading:
// slog.LevelDebug for calls the open circuit stopped, slog.LevelWarn otherwise.
func LogLevel(err error) slog.Level {
	if errors.Is(err, ErrCircuitOpen) {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// allow reports whether a driver call may go ahead, or the fail-fast error.
func (c *Cache) allow() error {
	sh := c.shared
	until := sh.downUntil.Load()
	if until == 0 {
		return nil
	}
	now := time.Now().UnixNano()
	if now < until {
		return errOpen
	}
	// Cooldown over: let exactly one caller probe, the rest wait another round.
	if sh.downUntil.CompareAndSwap(until, now+int64(sh.cooldown)) {
		return nil
	}
	return errOpen
}

// errOpen is the (allocation-free) error of a call stopped by the breaker.
var errOpen = fmt.Errorf("%w: %w", ErrUnavailable, ErrCircuitOpen)

// observe records the outcome of a driver call and returns err unchanged.
// A failure caused by the caller's own context ending (a short deadline) says
// nothing about the server and does not open the circuit.
func (c *Cache) observe(ctx context.Context, err error) error {
	sh := c.shared
	if sh.cooldown <= 0 {
		return err
	}
	if err != nil && errors.Is(err, ErrUnavailable) {
		if ctx.Err() != nil {
			return err
		}
		sh.downUntil.Store(time.Now().UnixNano() + int64(sh.cooldown))
		return err
	}
	if sh.downUntil.Load() != 0 {
		sh.downUntil.Store(0) // the server answered: close the circuit
	}
	return err
}
