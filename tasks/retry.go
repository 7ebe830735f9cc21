package tasks

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy decides when a failed task runs again.
type RetryPolicy interface {
	// NextRetry returns the delay before the next attempt after attempt
	// (1-based) failed with err.
	NextRetry(attempt int, err error) time.Duration
}

// RetryPolicyFunc adapts a function to RetryPolicy.
type RetryPolicyFunc func(attempt int, err error) time.Duration

// NextRetry implements RetryPolicy.
func (f RetryPolicyFunc) NextRetry(attempt int, err error) time.Duration { return f(attempt, err) }

// DefaultRetryPolicy is exponential backoff with jitter: Base·2^(attempt-1),
// capped at Max, then multiplied by a random factor in [1-Jitter, 1+Jitter].
// Zero fields mean Base 1s, Max 1h, Jitter 0.2.
type DefaultRetryPolicy struct {
	Base   time.Duration
	Max    time.Duration
	Jitter float64
}

// NextRetry implements RetryPolicy.
func (p DefaultRetryPolicy) NextRetry(attempt int, _ error) time.Duration {
	base, maxD, jitter := p.Base, p.Max, p.Jitter
	if base <= 0 {
		base = time.Second
	}
	if maxD <= 0 {
		maxD = time.Hour
	}
	if jitter <= 0 {
		jitter = 0.2
	}
	d := maxD
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 40 {
		if e := base << (attempt - 1); e > 0 && e < maxD {
			d = e
		}
	}
	f := 1 + jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}
