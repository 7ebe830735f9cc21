package tasks

import (
	"context"
	"time"
)

// batcher feeds one batch handler: it claims up to BatchSize due tasks of its
// type, keeps claiming for up to BatchWait while the batch is not full, runs
// the handler and records each task's outcome on its own.
type batcher struct {
	c *Client
	h *handlerEntry
}

func (b *batcher) run(ctx context.Context) {
	size := b.h.opts.batchSize
	var again time.Duration // > 0: due tasks were skipped, look again then
	for ctx.Err() == nil {
		jobs, err := b.c.st.claim(ctx, claimFilter{onlyType: b.h.typ}, size, b.c.cfg.lease)
		if err != nil && ctx.Err() == nil {
			b.c.log.Error("fetch batch", "task_type", b.h.typ, "err", err)
		}
		if len(jobs) == 0 {
			again = b.c.againAfter(ctx, claimFilter{onlyType: b.h.typ}, err == nil, again)
			wait := b.c.cfg.pollInterval
			if again > 0 {
				wait = min(wait, again)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			case <-b.h.poke:
			}
			continue
		}
		again = 0
		if wait := b.h.opts.batchWait; wait > 0 && len(jobs) < size {
			deadline := time.Now().Add(wait)
			for len(jobs) < size && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(min(batchWaitStep, time.Until(deadline)))
				more, err := b.c.st.claim(ctx, claimFilter{onlyType: b.h.typ}, size-len(jobs), b.c.cfg.lease)
				if err != nil {
					break
				}
				jobs = append(jobs, more...)
			}
		}
		b.c.execWG.Add(1)
		b.runBatch(jobs)
		b.c.execWG.Done()
	}
}

func (b *batcher) runBatch(jobs []*Job) {
	ctx, cancel := context.WithCancel(b.c.workCtx)
	defer cancel()
	for _, j := range jobs {
		b.c.track(j, cancel)
	}
	defer func() {
		for _, j := range jobs {
			b.c.untrack(j)
		}
	}()
	// The batch gets the smallest timeout of its tasks.
	var timeout time.Duration
	for _, j := range jobs {
		if j.Timeout > 0 && (timeout == 0 || j.Timeout < timeout) {
			timeout = j.Timeout
		}
	}
	if timeout > 0 {
		var tc context.CancelFunc
		ctx, tc = context.WithTimeout(ctx, timeout)
		defer tc()
	}
	ctx = context.WithValue(ctx, execKey{}, &execState{c: b.c, job: jobs[0], batch: true})
	errs := b.c.runBatch(ctx, b.h, jobs)
	for i, j := range jobs {
		b.c.recordOutcome(j, nil, errs[i], nil)
	}
}
