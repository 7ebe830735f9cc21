package tasks

import (
	"context"
	"sync"
)

// runBatch runs a batch handler on jobs with every job passing through the
// client's middleware (WithMiddleware), so logging, tracing and metrics
// middleware see each task of a batch as they see a single task.
//
// Each job's middleware chain runs in its own goroutine; the innermost
// handler of a chain does not run the job on its own but adds it to the
// batch and waits. Once every chain has either reached the innermost handler
// or returned without calling it (middleware that rejects a task), the batch
// handler runs once on the jobs that reached it, with the batch's context,
// and each waiting chain returns its job's error back through its
// middleware. Values middleware adds to a task's context are therefore not
// seen by the batch handler. A middleware that calls next again after the
// batch ran (a retrying middleware) runs that job as a batch of one.
func (c *Client) runBatch(ctx context.Context, h *handlerEntry, jobs []*Job) []error {
	if len(c.cfg.middleware) == 0 {
		return safeBatch(ctx, h, jobs)
	}
	b := &batchRun{
		pending: len(jobs),
		arrived: make([]bool, len(jobs)),
		gone:    make([]bool, len(jobs)),
		results: make([]chan error, len(jobs)),
		ready:   make(chan struct{}),
	}
	if b.pending == 0 {
		return nil
	}
	index := make(map[*Job]int, len(jobs))
	for i, j := range jobs {
		index[j] = i
		b.results[i] = make(chan error, 1)
	}
	inner := func(_ context.Context, j *Job) error {
		i, ok := index[j]
		b.mu.Lock()
		if !ok || b.ran || b.pending == 0 || b.arrived[i] || b.gone[i] {
			// Not one of this batch's jobs, or next called again or
			// after its chain returned: a batch of one.
			b.mu.Unlock()
			return safeBatch(ctx, h, []*Job{j})[0]
		}
		b.arrived[i] = true
		b.settle()
		b.mu.Unlock()
		return <-b.results[i]
	}
	chained := chain(c.cfg.middleware, inner)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = safeCall(ctx, chained, j)
			b.mu.Lock()
			if !b.arrived[i] {
				b.gone[i] = true
				b.settle() // returned without reaching the batch
			}
			b.mu.Unlock()
		}()
	}
	<-b.ready
	b.mu.Lock()
	b.ran = true
	var batch []*Job
	var idx []int
	for i, a := range b.arrived {
		if a {
			batch = append(batch, jobs[i])
			idx = append(idx, i)
		}
	}
	b.mu.Unlock()
	if len(batch) > 0 {
		got := safeBatch(ctx, h, batch)
		for k, i := range idx {
			b.results[i] <- got[k]
		}
	}
	wg.Wait()
	return errs
}

// batchRun collects the jobs of one batch as their middleware chains reach
// the batch handler.
type batchRun struct {
	mu      sync.Mutex
	pending int    // chains that have neither arrived nor returned
	arrived []bool // chain i reached the innermost handler
	gone    []bool // chain i returned without reaching it
	ran     bool   // the batch handler has been called
	results []chan error
	ready   chan struct{} // closed when pending reaches 0
}

// settle counts one chain as arrived or gone; b.mu is held.
func (b *batchRun) settle() {
	b.pending--
	if b.pending == 0 {
		close(b.ready)
	}
}
