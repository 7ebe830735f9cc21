package tasks

import (
	"context"
	"time"
)

// runMaintenance keeps leases alive, rescues tasks whose lease expired and
// deletes old finished tasks, until ctx is cancelled.
func (c *Client) runMaintenance(ctx context.Context) {
	c.maintWG.Add(1)
	go func() { defer c.maintWG.Done(); c.runHeartbeat(ctx) }()
	rescue := time.NewTicker(c.cfg.lease / 2)
	defer rescue.Stop()
	clean := time.NewTicker(c.cfg.cleanInterval)
	defer clean.Stop()
	c.rescueOnce(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-rescue.C:
			c.rescueOnce(ctx)
		case <-clean.C:
			if _, err := c.Clean(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("clean old tasks", "err", err)
			}
		}
	}
}

// runHeartbeat extends the leases of running tasks every lease/3, in its own
// goroutine so slow maintenance never delays it.
func (c *Client) runHeartbeat(ctx context.Context) {
	beat := time.NewTicker(c.cfg.lease / 3)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
		}
		if ids := c.runningIDs(); len(ids) > 0 {
			if err := c.st.heartbeat(ctx, ids, c.st.now().Add(c.cfg.lease)); err != nil && ctx.Err() == nil {
				c.log.Error("heartbeat", "err", err)
			}
		}
	}
}

func (c *Client) rescueOnce(ctx context.Context) {
	n, err := c.st.rescue(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("rescue expired leases", "err", err)
		}
		return
	}
	if n > 0 {
		c.log.Warn("rescued tasks whose worker stopped heartbeating", "count", n)
		c.wakeAll()
	}
}

// Clean deletes completed tasks older than the result retention and dead or
// cancelled tasks older than the dead retention, with their error history.
// The client runs it every clean interval; it returns how many tasks it
// deleted.
func (c *Client) Clean(ctx context.Context) (int64, error) {
	now := c.st.now()
	return c.st.clean(ctx, now.Add(-c.cfg.resultRetention), now.Add(-c.cfg.deadRetention))
}
