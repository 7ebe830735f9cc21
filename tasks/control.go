package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// PauseQueue stops every client from fetching tasks of queue until
// ResumeQueue; running tasks finish. Pausing a queue that has no tasks yet
// is allowed.
func (c *Client) PauseQueue(ctx context.Context, queue string) error {
	return c.st.setPaused(ctx, queue, true)
}

// ResumeQueue lets clients fetch tasks of queue again.
func (c *Client) ResumeQueue(ctx context.Context, queue string) error {
	if err := c.st.setPaused(ctx, queue, false); err != nil {
		return err
	}
	c.poke(queue)
	return nil
}

// QueueInfo is a queue with its task counts per state.
type QueueInfo struct {
	Name   string
	Paused bool
	Counts map[State]int64
}

// Queues lists every queue that has tasks or a pause flag, by name.
func (c *Client) Queues(ctx context.Context) ([]QueueInfo, error) {
	rows, paused, err := c.st.counts(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*QueueInfo{}
	get := func(n string) *QueueInfo {
		q, ok := byName[n]
		if !ok {
			q = &QueueInfo{Name: n, Paused: paused[n], Counts: map[State]int64{}}
			byName[n] = q
		}
		return q
	}
	for n := range paused {
		get(n)
	}
	for _, r := range rows {
		get(r.Queue).Counts[State(r.State)] += r.N
	}
	out := make([]QueueInfo, 0, len(byName))
	for _, q := range byName {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns a task with its error history; ErrNotFound if it does not
// exist (or was cleaned up).
func (c *Client) Get(ctx context.Context, id int64) (*Info, error) {
	in, err := c.st.get(ctx, c.db, id)
	if err != nil {
		return nil, err
	}
	if in.Errors, err = c.st.errorsOf(ctx, id); err != nil {
		return nil, err
	}
	return in, nil
}

// ListParams filters List. Zero fields match everything; pages are keyset
// by id: pass the last id seen as AfterID.
type ListParams struct {
	Queue   string
	State   State
	Type    string
	AfterID int64
	Limit   int // default 100, at most 1000
}

// List returns tasks ordered by id.
func (c *Client) List(ctx context.Context, p ListParams) ([]*Info, error) {
	return c.st.list(ctx, p)
}

// Retry makes a dead, cancelled, completed, retryable or scheduled task due
// now. Finished tasks get a fresh round of attempts (the error history is
// kept). A running task gives ErrConflict, as does a task whose unique key
// is now held by another pending task.
func (c *Client) Retry(ctx context.Context, id int64) error {
	if err := c.st.retry(ctx, id); err != nil {
		return fmt.Errorf("tasks: retry %d: %w", id, err)
	}
	c.wakeAll()
	return nil
}

// Cancel cancels a pending or running task. A task running in this client
// has its context cancelled; one running elsewhere finishes its run but its
// outcome is not recorded. A finished task gives ErrConflict.
func (c *Client) Cancel(ctx context.Context, id int64) error {
	if err := c.st.cancel(ctx, id); err != nil {
		return fmt.Errorf("tasks: cancel %d: %w", id, err)
	}
	c.runMu.Lock()
	if r, ok := c.running[id]; ok {
		r.cancel()
	}
	c.runMu.Unlock()
	return nil
}

// SetResult stores v (JSON-encoded) as the result of task id (and in the
// result cache, if any), whatever its state: the way for a batch handler to
// give each task of its batch a result. ErrNotFound if there is no such task.
func (c *Client) SetResult(ctx context.Context, id int64, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: result: %v", ErrInvalid, err)
	}
	if err := c.st.setResult(ctx, id, raw); err != nil {
		return err
	}
	if rc := c.cfg.resultCache; rc != nil {
		if err := rc.Set(ctx, c.resultKey(id), raw, c.cfg.resultRetention); err != nil {
			c.log.Warn("cache task result", "task_id", id, "err", err)
		}
	}
	return nil
}

// SetProgress stores v (JSON-encoded) as the progress of running task id.
// ErrConflict if the task is not running.
func (c *Client) SetProgress(ctx context.Context, id int64, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: progress: %v", ErrInvalid, err)
	}
	return c.st.setProgress(ctx, id, raw)
}
