package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// Enqueue stores a task of taskType with args encoded as JSON and returns its
// id. With UniqueKey and a pending or running task holding that key, nothing
// is inserted and that task's id is returned. On a WithTx view the task is
// inserted in the caller's transaction: it exists, and runs, only if that
// transaction commits.
func (c *Client) Enqueue(ctx context.Context, taskType string, args any, opts ...EnqueueOption) (int64, error) {
	r, err := c.newRow(taskType, args, opts)
	if err != nil {
		return 0, err
	}
	var id int64
	switch {
	case c.tx != nil:
		if id, _, err = c.st.insert(ctx, c.tx, r); err != nil {
			return 0, err
		}
		if r.State == StateAvailable {
			c.wakeAfterCommit(func() { c.wake(r.Queue, r.Type) })
		}
		return id, nil
	case c.st.d == sqldb.MySQL:
		// Its own transaction, so InnoDB deadlocks with concurrent
		// claimers are retried.
		err = sqldb.InTx(ctx, c.db, nil, func(tx *sqlx.Tx) error {
			var err error
			id, _, err = c.st.insert(ctx, tx, r)
			return err
		})
	default:
		id, _, err = c.st.insert(ctx, c.db, r)
	}
	if err == nil && r.State == StateAvailable {
		c.wake(r.Queue, r.Type)
	}
	return id, err
}

// wakeAfterCommit runs wake once the caller's transaction commits (never if
// it rolls back). A transaction not begun by sqltx.InTx or sqltx.Begin has
// no after-commit hooks: its tasks are found by the next poll instead.
func (c *Client) wakeAfterCommit(wake func()) {
	if !sqldb.Managed(c.tx) {
		return
	}
	_ = sqldb.AfterCommit(c.tx, func(context.Context) { wake() })
}

// Item is one task of EnqueueMany.
type Item struct {
	Type    string
	Args    any
	Options []EnqueueOption
}

// EnqueueMany stores many tasks with few statements (multi-row INSERTs), in
// one transaction (the caller's on a WithTx view), and returns their ids in
// order. Items with a UniqueKey are inserted one by one.
func (c *Client) EnqueueMany(ctx context.Context, items []Item) ([]int64, error) {
	rows := make([]*newRow, len(items))
	for i, it := range items {
		r, err := c.newRow(it.Type, it.Args, it.Options)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		rows[i] = r
	}
	ids := make([]int64, len(items))
	err := sqldb.InTx(ctx, c.db, c.tx, func(tx *sqlx.Tx) error {
		var plain []*newRow
		var plainIdx []int
		for i, r := range rows {
			if r.UniqueKey != "" {
				id, _, err := c.st.insert(ctx, tx, r)
				if err != nil {
					return err
				}
				ids[i] = id
				continue
			}
			plain = append(plain, r)
			plainIdx = append(plainIdx, i)
		}
		got, err := c.st.insertMany(ctx, tx, plain)
		if err != nil {
			return err
		}
		if len(got) != len(plain) {
			return fmt.Errorf("tasks: enqueue many: %d ids for %d rows", len(got), len(plain))
		}
		for k, i := range plainIdx {
			ids[i] = got[k]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	wake := func() {
		for _, r := range rows {
			if r.State == StateAvailable {
				c.wake(r.Queue, r.Type)
			}
		}
	}
	if c.tx != nil {
		c.wakeAfterCommit(wake)
	} else {
		wake()
	}
	return ids, nil
}

func (c *Client) newRow(taskType string, args any, opts []EnqueueOption) (*newRow, error) {
	if taskType == "" || len(taskType) > 255 {
		return nil, fmt.Errorf("%w: task type must be 1-255 bytes", ErrInvalid)
	}
	o := enqueueOpts{queue: "default", maxAttempts: c.cfg.maxAttempts, maxCrashes: c.cfg.maxCrashes, timeout: c.cfg.defaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.queue == "" || len(o.queue) > 128 {
		return nil, fmt.Errorf("%w: queue name must be 1-128 bytes", ErrInvalid)
	}
	if o.maxAttempts <= 0 || o.maxCrashes <= 0 || o.timeout < 0 || o.delay < 0 || len(o.uniqueKey) > 255 {
		return nil, fmt.Errorf("%w: max attempts and max crashes must be positive, timeout and delay not negative, unique key ≤ 255 bytes", ErrInvalid)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadArgs, err)
	}
	now := c.st.now()
	runAt := now
	if !o.runAt.IsZero() {
		runAt = o.runAt.UTC()
	}
	if o.delay > 0 {
		runAt = now.Add(o.delay)
	}
	state := StateAvailable
	if runAt.After(now) {
		state = StateScheduled
	}
	return &newRow{
		Type: taskType, Queue: o.queue, State: state, Priority: o.priority, Args: raw,
		MaxAttempts: o.maxAttempts, MaxCrashes: o.maxCrashes, TimeoutMS: int64(o.timeout / time.Millisecond), UniqueKey: o.uniqueKey, RunAt: runAt,
	}, nil
}
