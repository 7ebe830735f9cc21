package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// handlerEntry is a registered task type.
type handlerEntry struct {
	typ    string
	single Handler                                        // decodes args then calls the typed handler
	batch  func(ctx context.Context, jobs []*Job) []error // batch handlers
	opts   handlerOpts
	sem    chan struct{}
	// poke wakes a batch handler's fetchers when a task of its type is
	// enqueued (nil for single-task handlers).
	poke chan struct{}
}

// Register makes c run h for tasks of taskType. Args are decoded from JSON
// into A; args that do not decode dead-letter the task with ErrBadArgs.
// Register before Start; registering a type twice panics (like
// http.ServeMux).
func Register[A any](c *Client, taskType string, h func(ctx context.Context, t *Task[A]) error, opts ...HandlerOption) {
	o := handlerOpts{}
	for _, opt := range opts {
		opt(&o)
	}
	run := func(ctx context.Context, j *Job) error {
		var a A
		if err := decodeArgs(j.Args, &a); err != nil {
			return err
		}
		return h(ctx, &Task[A]{ID: j.ID, Type: j.Type, Queue: j.Queue, Args: a, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Crashes: j.Crashes, Tick: j.Tick, Job: j})
	}
	c.register(&handlerEntry{typ: taskType, single: run, opts: o})
}

// RegisterBatch makes c run h on batches of up to BatchSize tasks of
// taskType (default 100), waiting up to BatchWait to fill a batch. h returns
// one error per task (nil = done); each failed task retries or dies on its
// own, and tasks whose args do not decode are dead-lettered without reaching
// h. Concurrency(n) runs n batches at once (default 1). Batch tasks are
// fetched from every queue that is not paused.
//
// Middleware (WithMiddleware) wraps each task of a batch as it wraps a single
// task: every task's chain runs, and h runs once on the tasks whose chains
// reached it, with the batch's context (values middleware puts in a task's
// context do not reach h); each task's error then returns through its chain.
func RegisterBatch[A any](c *Client, taskType string, h func(ctx context.Context, ts []*Task[A]) []error, opts ...HandlerOption) {
	o := handlerOpts{batchSize: 100}
	for _, opt := range opts {
		opt(&o)
	}
	if o.batchSize <= 0 {
		o.batchSize = 100
	}
	run := func(ctx context.Context, jobs []*Job) []error {
		errs := make([]error, len(jobs))
		ts := make([]*Task[A], 0, len(jobs))
		idx := make([]int, 0, len(jobs))
		for i, j := range jobs {
			var a A
			if err := decodeArgs(j.Args, &a); err != nil {
				errs[i] = err
				continue
			}
			ts = append(ts, &Task[A]{ID: j.ID, Type: j.Type, Queue: j.Queue, Args: a, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Crashes: j.Crashes, Tick: j.Tick, Job: j})
			idx = append(idx, i)
		}
		if len(ts) == 0 {
			return errs
		}
		got := h(ctx, ts)
		for k, i := range idx {
			switch {
			case len(got) != len(ts):
				errs[i] = fmt.Errorf("tasks: batch handler returned %d errors for %d tasks", len(got), len(ts))
			default:
				errs[i] = got[k]
			}
		}
		return errs
	}
	c.register(&handlerEntry{typ: taskType, batch: run, opts: o, poke: make(chan struct{}, 1)})
}

// HandleFunc registers a raw handler that receives the encoded args.
func (c *Client) HandleFunc(taskType string, h Handler, opts ...HandlerOption) {
	o := handlerOpts{}
	for _, opt := range opts {
		opt(&o)
	}
	c.register(&handlerEntry{typ: taskType, single: h, opts: o})
}

func (c *Client) register(h *handlerEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.typ == "" {
		panic("tasks: Register with an empty task type")
	}
	if c.started {
		panic("tasks: Register " + h.typ + " after Start")
	}
	if _, dup := c.handlers[h.typ]; dup {
		panic("tasks: task type " + h.typ + " registered twice")
	}
	if h.single != nil && h.opts.concurrency > 0 {
		h.sem = make(chan struct{}, h.opts.concurrency)
	}
	if h.single != nil {
		h.single = chain(c.cfg.middleware, h.single)
	}
	c.handlers[h.typ] = h
}

func (c *Client) handler(typ string) *handlerEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.handlers[typ]
}

func decodeArgs(raw json.RawMessage, into any) error {
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%w: %v", ErrBadArgs, err)
	}
	return nil
}

// batchWaitStep is how often a filling batch looks for more due tasks.
const batchWaitStep = 20 * time.Millisecond
