package tasks

import (
	"context"
	"sync"
	"time"
)

// runRelay publishes due tasks to the broker. Marking a task dispatched and
// publishing it are not atomic, so a task whose message was lost (broker
// down, connection closed) is published again once it has stayed pending
// past the redelivery period. Several relays may run: each task is marked by
// exactly one per period.
func (c *Client) runRelay(ctx context.Context) {
	const batch = 1000
	t := time.NewTicker(c.cfg.pollInterval)
	defer t.Stop()
	for {
		n, err := c.relayOnce(ctx, batch)
		if err != nil && ctx.Err() == nil {
			c.log.Error("relay due tasks", "err", err)
		}
		if n == batch && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.relayPoke:
		}
	}
}

func (c *Client) relayOnce(ctx context.Context, limit int) (int, error) {
	due, err := c.st.dispatch(ctx, limit, c.cfg.redeliver, c.batchTypes)
	if err != nil {
		return 0, err
	}
	byQueue := map[string][]int64{}
	for _, d := range due {
		byQueue[d.Queue] = append(byQueue[d.Queue], d.ID)
	}
	for q, ids := range byQueue {
		if err := c.cfg.broker.Publish(ctx, q, ids); err != nil {
			// Let the next round publish them again.
			if uerr := c.st.undispatch(context.WithoutCancel(ctx), ids); uerr != nil {
				c.log.Warn("reset dispatch marks", "err", uerr)
			}
			return 0, err
		}
	}
	return len(due), nil
}

// startConsumer runs n workers taking deliveries of queue from the broker.
func (c *Client) startConsumer(ctx context.Context, queue string, n int) {
	c.producersWG.Add(1)
	go func() {
		defer c.producersWG.Done()
		var sub Subscription
		for sub == nil {
			s, err := c.cfg.broker.Subscribe(ctx, queue, n)
			if err == nil {
				sub = s
				break
			}
			if ctx.Err() != nil {
				return
			}
			c.log.Error("subscribe", "queue", queue, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		defer sub.Close()
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); c.consume(ctx, sub) }()
		}
		wg.Wait()
	}()
}

func (c *Client) consume(ctx context.Context, sub Subscription) {
	for {
		d, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("receive", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		j, err := c.st.claimID(ctx, d.TaskID(), c.cfg.lease, c.batchTypes)
		if err != nil {
			d.Nack()
			continue
		}
		if j == nil {
			// Finished, running elsewhere, not due, paused or a batch type
			// (batchers claim those from SQL): the relay republishes if needed.
			d.Ack()
			continue
		}
		c.execWG.Add(1)
		c.executeThen(j, func() { d.Ack() })
		c.execWG.Done()
	}
}
