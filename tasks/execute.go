package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// execState travels in a handler's context so SetResult and SetProgress
// find their task.
type execState struct {
	c      *Client
	job    *Job
	result json.RawMessage
	batch  bool
}

type execKey struct{}

// execute runs one claimed task and records its outcome.
func (c *Client) execute(j *Job) { c.executeThen(j, nil) }

// executeThen runs one claimed task, records its outcome and then calls
// after (if not nil) once the outcome is committed.
func (c *Client) executeThen(j *Job, after func()) {
	ctx, cancel := context.WithCancel(c.workCtx)
	defer cancel()
	c.track(j, cancel)
	defer c.untrack(j)
	if j.Timeout > 0 {
		var tcancel context.CancelFunc
		ctx, tcancel = context.WithTimeout(ctx, j.Timeout)
		defer tcancel()
	}
	st := &execState{c: c, job: j}
	ctx = context.WithValue(ctx, execKey{}, st)

	var err error
	h := c.handler(j.Type)
	switch {
	case h == nil:
		err = fmt.Errorf("%w: %q", ErrUnknownType, j.Type)
	case h.batch != nil:
		// A batch type fetched one by one (broker delivery): a batch of one.
		st.batch = true
		err = c.runBatch(ctx, h, []*Job{j})[0]
	default:
		if h.sem != nil {
			select {
			case h.sem <- struct{}{}:
				defer func() { <-h.sem }()
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err == nil {
			err = safeCall(ctx, h.single, j)
		}
	}
	if err != nil && j.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v: %w", j.Timeout, err)
	}
	c.recordOutcome(j, st.result, err, after)
}

func safeCall(ctx context.Context, h Handler, j *Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return h(ctx, j)
}

func safeBatch(ctx context.Context, h *handlerEntry, jobs []*Job) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			pe := &PanicError{Value: r, Stack: string(debug.Stack())}
			errs = make([]error, len(jobs))
			for i := range errs {
				errs[i] = pe
			}
		}
	}()
	errs = h.batch(ctx, jobs)
	if len(errs) != len(jobs) {
		errs = make([]error, len(jobs))
		for i := range errs {
			errs[i] = fmt.Errorf("tasks: batch handler returned the wrong number of errors")
		}
	}
	return errs
}

// recordOutcome writes what happened to a run: completions go to the
// batching completer, everything else is written at once.
func (c *Client) recordOutcome(j *Job, result json.RawMessage, err error, after func()) {
	if err != nil && c.hardStopped.Load() {
		if after != nil {
			after()
		}
		return // released by Stop; it runs again elsewhere
	}
	log := c.log.With("task_id", j.ID, "task_type", j.Type, "queue", j.Queue, "attempt", j.Attempt)
	next := classify(j, err)
	if next == StateCompleted {
		c.comp.add(completion{id: j.ID, attempt: j.run, result: result, after: after})
		return
	}
	if after != nil {
		defer after()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var werr error
	switch next {
	case StateScheduled:
		var se *SnoozeError
		errors.As(err, &se)
		werr = c.st.snooze(ctx, j.ID, j.run, c.st.now().Add(se.Delay))
		log.Debug("task snoozed", "delay", se.Delay)
	case StateRetryable:
		delay := c.cfg.retry.NextRetry(j.Attempt, err)
		werr = c.st.fail(ctx, failure{id: j.ID, run: j.run, attempt: j.Attempt, state: StateRetryable, runAt: c.st.now().Add(delay), err: err.Error()})
		log.Warn("task failed, will retry", "err", err, "retry_in", delay)
	default:
		werr = c.st.fail(ctx, failure{id: j.ID, run: j.run, attempt: j.Attempt, state: next, err: err.Error()})
		if next == StateDead {
			log.Error("task dead", "err", err)
		} else {
			log.Info("task cancelled", "err", err)
		}
	}
	if werr != nil {
		// The lease expires and the rescuer retries the task.
		log.Error("record task outcome", "err", werr)
	}
}

// SetResult records v (JSON-encoded) as the result of the task whose handler
// received ctx; it is stored when the task completes. Not available in batch
// handlers (use Client.SetResult with the task id after the batch instead).
func SetResult(ctx context.Context, v any) error {
	st, ok := ctx.Value(execKey{}).(*execState)
	if !ok || st.batch {
		return fmt.Errorf("%w: SetResult outside a single-task handler", ErrInvalid)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: result: %v", ErrInvalid, err)
	}
	st.result = raw
	return nil
}

// SetProgress stores v (JSON-encoded) as the progress of the running task
// whose handler received ctx, at once, for callers polling Get.
func SetProgress(ctx context.Context, v any) error {
	st, ok := ctx.Value(execKey{}).(*execState)
	if !ok || st.batch {
		return fmt.Errorf("%w: SetProgress outside a single-task handler", ErrInvalid)
	}
	return st.c.SetProgress(ctx, st.job.ID, v)
}
