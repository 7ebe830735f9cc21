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

// startConsumer works queue from the broker with up to n tasks at once:
// receivers pull deliveries, and one dispatcher claims whatever has arrived
// in a single SQL statement (like the SQL producer's batch fetch), runs the
// claimed tasks and acks each delivery once its task's outcome is committed.
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
		deliveries := make(chan Delivery, n)
		var wg sync.WaitGroup
		for i := 0; i < min(n, 8); i++ {
			wg.Add(1)
			go func() { defer wg.Done(); c.receive(ctx, sub, deliveries) }()
		}
		c.dispatch(ctx, deliveries, n)
		wg.Wait()
		// Deliveries received but not claimed go back to the broker.
		for {
			select {
			case d := <-deliveries:
				d.Nack()
			default:
				return
			}
		}
	}()
}

func (c *Client) receive(ctx context.Context, sub Subscription, out chan<- Delivery) {
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
		select {
		case out <- d:
		case <-ctx.Done():
			d.Nack()
			return
		}
	}
}

// dispatch claims and runs deliveries, holding one of n slots per task.
func (c *Client) dispatch(ctx context.Context, in <-chan Delivery, n int) {
	slots := make(chan struct{}, n)
	for {
		// A free slot first, then a delivery.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		var batch []Delivery
		select {
		case d := <-in:
			batch = append(batch, d)
		case <-ctx.Done():
			<-slots
			return
		}
	more:
		for len(batch) < c.cfg.fetchBatch {
			select {
			case slots <- struct{}{}:
			default:
				break more
			}
			select {
			case d := <-in:
				batch = append(batch, d)
			default:
				<-slots
				break more
			}
		}
		ids := make([]int64, len(batch))
		for i, d := range batch {
			ids[i] = d.TaskID()
		}
		jobs, err := c.st.claim(ctx, claimFilter{ids: ids, excludeTypes: c.batchTypes}, len(ids), c.cfg.lease)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("claim delivered tasks", "err", err)
			}
			for _, d := range batch {
				d.Nack()
				<-slots
			}
			continue
		}
		byID := make(map[int64]*Job, len(jobs))
		for _, j := range jobs {
			byID[j.ID] = j
		}
		for _, d := range batch {
			j, ok := byID[d.TaskID()]
			if ok {
				delete(byID, d.TaskID()) // a duplicate delivery of the same id is acked below
			}
			if !ok {
				// Finished, running elsewhere, not due, paused or a batch
				// type (batchers claim those from SQL): the relay
				// republishes it if it is still pending later.
				d.Ack()
				<-slots
				continue
			}
			c.execWG.Add(1)
			go func() {
				defer c.execWG.Done()
				c.executeThen(j, func() { d.Ack() })
				<-slots
			}()
		}
	}
}
