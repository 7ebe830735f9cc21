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
	var again time.Duration // > 0: due tasks were skipped, look again then
	for {
		n, err := c.relayOnce(ctx, batch)
		if err != nil && ctx.Err() == nil {
			c.log.Error("relay due tasks", "err", err)
		}
		if n == batch && err == nil {
			continue
		}
		// As for fetchers (againAfter): on MySQL, tasks left behind under
		// another transaction's row locks are looked at again soon.
		switch {
		case err != nil || ctx.Err() != nil || !c.st.skippedDispatch(ctx, c.cfg.redeliver, c.batchTypes):
			again = 0
		case again <= 0:
			again = 10 * time.Millisecond
		default:
			again = min(2*again, c.cfg.pollInterval)
		}
		var soon <-chan time.Time
		if again > 0 {
			soon = time.After(again)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.relayPoke:
		case <-soon:
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
// startConsumer subscribes to queue and feeds its deliveries to the
// workers; tried calls tried once its first Subscribe attempt returned
// (subscribed or failed), so that the relay publishes only to subscriptions
// that exist: a broker without durable queues (the in-memory one) drops a
// message published before the subscription.
func (c *Client) startConsumer(ctx context.Context, queue string, n int, tried func()) {
	c.producersWG.Add(1)
	go func() {
		defer c.producersWG.Done()
		var sub Subscription
		for sub == nil {
			s, err := c.cfg.broker.Subscribe(ctx, queue, n)
			if tried != nil {
				tried()
				tried = nil
			}
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
		missed := c.runDelivered(batch, jobs, slots)
		if len(missed) > 0 {
			c.execWG.Add(1)
			go func() { defer c.execWG.Done(); c.reclaim(ctx, missed, slots) }()
		}
	}
}

// runDelivered runs the claimed jobs of deliveries batch, each holding a
// slot until its outcome is committed and its delivery acked, and returns
// the deliveries whose task was not claimed (they still hold their slots).
func (c *Client) runDelivered(batch []Delivery, jobs []*Job, slots chan struct{}) (missed []Delivery) {
	byID := make(map[int64]*Job, len(jobs))
	for _, j := range jobs {
		byID[j.ID] = j
	}
	for _, d := range batch {
		j, ok := byID[d.TaskID()]
		if !ok {
			missed = append(missed, d)
			continue
		}
		delete(byID, d.TaskID()) // a duplicate delivery of the same id is missed
		c.execWG.Add(1)
		go func() {
			defer c.execWG.Done()
			c.executeThen(j, func() { d.Ack() })
			<-slots
		}()
	}
	return missed
}

// reclaim handles deliveries whose task the dispatcher did not claim. Most
// are finished, running elsewhere, not due, paused or of a batch type
// (batchers claim those from SQL): they are acked, and the relay
// republishes any that is still pending later. But on MySQL a claim skips
// due tasks whose rows another transaction's scan has locked (see
// store.skippedDue): those are claimed again after a few milliseconds, for
// up to about a second, instead of waiting for the relay.
func (c *Client) reclaim(ctx context.Context, missed []Delivery, slots chan struct{}) {
	defer func() {
		for _, d := range missed {
			if ctx.Err() != nil {
				d.Nack()
			} else {
				d.Ack()
			}
			<-slots
		}
	}()
	for delay := 10 * time.Millisecond; delay <= time.Second && ctx.Err() == nil; delay *= 2 {
		ids := make([]int64, len(missed))
		for i, d := range missed {
			ids[i] = d.TaskID()
		}
		f := claimFilter{ids: ids, excludeTypes: c.batchTypes}
		if !c.st.skippedDue(ctx, f) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		jobs, err := c.st.claim(ctx, f, len(ids), c.cfg.lease)
		if err != nil {
			return
		}
		missed = c.runDelivered(missed, jobs, slots)
		if len(missed) == 0 {
			return
		}
	}
}
