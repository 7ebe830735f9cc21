package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// ModifyOption configures Modify.
type ModifyOption func(*modifyConfig)

type modifyConfig struct {
	maxTries  int
	base, max time.Duration
}

// MaxTries caps how many times Modify reads, calls fn and writes before it
// gives up with ErrConflict (default 100; values below 1 mean 1).
func MaxTries(n int) ModifyOption { return func(c *modifyConfig) { c.maxTries = max(n, 1) } }

// Backoff sets Modify's wait after a conflict: a random duration up to
// base·2^(conflicts-1), capped at max (defaults 2ms and 250ms).
func Backoff(base, max time.Duration) ModifyOption {
	return func(c *modifyConfig) { c.base, c.max = base, max }
}

// Modify is the read-modify-write loop for a record that other writers
// change concurrently: it reads record id, calls fn with it and writes the
// document fn returns as the next revision (Update with the revision it
// read). When another commit won in between (ErrConflict), it waits a
// random, growing backoff, reads again and calls fn again, so fn must only
// compute the new document from the record it is given (it may run several
// times). It returns the record as written.
//
// fn returning a nil document writes nothing and returns the record as
// read; fn returning an error stops Modify with that error. Errors other
// than ErrConflict (ErrNotFound, ErrDeleted, a ValidationError, ctx done)
// are returned at once. After MaxTries conflicts the error wraps
// ErrConflict.
//
// On a Store bound to a caller's transaction (WithTx) Modify tries once: a
// conflict there needs the whole transaction retried.
func (s *Store) Modify(ctx context.Context, id uuid.UUID, fn func(cur *Record) (json.RawMessage, error), opts ...ModifyOption) (*Record, error) {
	cfg := modifyConfig{maxTries: 100, base: 2 * time.Millisecond, max: 250 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if s.tx != nil {
		cfg.maxTries = 1
	}
	var last error
	for try := 1; try <= cfg.maxTries; try++ {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		doc, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if doc == nil {
			return cur, nil
		}
		rec, err := s.Update(ctx, id, doc, cur.Revision)
		if err == nil {
			return rec, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		last = err
		if try == cfg.maxTries {
			break
		}
		wait := cfg.max
		if try < 30 {
			wait = min(cfg.base<<(try-1), cfg.max)
		}
		if wait > 0 {
			wait = time.Duration(rand.Int64N(int64(wait))) + 1
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("records: modify %s: gave up after %d conflicts: %w", id, cfg.maxTries, last)
}
