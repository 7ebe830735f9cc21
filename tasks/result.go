package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ResultCache is where results are also written, so callers polling a result
// do not hit SQL (a Redis or Memcached *cache.Cache satisfies it). Any Get
// error, a miss included, falls back to SQL.
type ResultCache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// Result returns the JSON result of a completed task (nil if its handler set
// none). It returns ErrNotDone while the task has not finished, an error
// wrapping ErrFailed (with the last error) when it ended dead or cancelled,
// and ErrNotFound when it does not exist or its result passed the retention
// period.
func (c *Client) Result(ctx context.Context, id int64) (json.RawMessage, error) {
	if rc := c.cfg.resultCache; rc != nil {
		if b, err := rc.Get(ctx, c.resultKey(id)); err == nil && len(b) > 0 {
			return json.RawMessage(b), nil
		}
	}
	in, err := c.st.get(ctx, c.db, id)
	if err != nil {
		return nil, err
	}
	return c.resultOf(in)
}

func (c *Client) resultOf(in *Info) (json.RawMessage, error) {
	switch {
	case in.State == StateCompleted:
		if in.FinishedAt != nil && c.st.now().Sub(*in.FinishedAt) > c.cfg.resultRetention {
			return nil, ErrNotFound
		}
		return in.Result, nil
	case in.State == StateDead || in.State == StateCancelled:
		return nil, fmt.Errorf("%w: task %d %s: %s", ErrFailed, in.ID, in.State, in.LastError)
	}
	return nil, ErrNotDone
}

// ResultAs decodes the result of task id into T; see Client.Result.
func ResultAs[T any](ctx context.Context, c *Client, id int64) (T, error) {
	var v T
	raw, err := c.Result(ctx, id)
	if err != nil {
		return v, err
	}
	if raw == nil {
		return v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("tasks: decode result of %d: %w", id, err)
	}
	return v, nil
}

// Wait polls until task id is finished (completed, dead or cancelled) or
// ctx is done, and returns it. A dead or cancelled task is returned with an
// error wrapping ErrFailed.
func (c *Client) Wait(ctx context.Context, id int64) (*Info, error) {
	every := min(c.cfg.pollInterval, 200*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		in, err := c.st.get(ctx, c.db, id)
		if err != nil {
			return nil, err
		}
		if in.State.Final() {
			if _, err := c.resultOf(in); err != nil && in.State != StateCompleted {
				return in, err
			}
			return in, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
