package tasks

import (
	"context"
	"time"
)

// OldestUnfinished returns the creation time of the oldest task of
// taskType that is pending or running (ok false when there is none): a
// consumer of an outbox knows that no task created before it can still be
// delivered, except by hand (Retry of a finished task).
func (c *Client) OldestUnfinished(ctx context.Context, taskType string) (t time.Time, ok bool, err error) {
	var v dbTime
	q := c.db.Rebind("SELECT MIN(created_at) FROM tasks_jobs WHERE type = ? AND state IN ('available', 'scheduled', 'retryable', 'running')")
	if err := c.db.QueryRowxContext(ctx, q, taskType).Scan(&v); err != nil {
		return time.Time{}, false, wrapDB("oldest unfinished task", err)
	}
	return v.T, v.Valid, nil
}
