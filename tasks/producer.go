package tasks

import (
	"context"
	"time"
)

// producer fetches due tasks of one queue and runs each in its own
// goroutine, keeping at most max running. It fetches in batches: after a
// full fetch it waits until a quarter of the slots are free (or the poll
// interval passes) so that one claim statement serves many tasks.
type producer struct {
	c      *Client
	filter claimFilter
	max    int
	poke   chan struct{}
}

func (p *producer) run(ctx context.Context) {
	done := make(chan struct{}, p.max)
	running := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	threshold := max(1, p.max/4)
	fetchNow := true
	var again time.Duration // > 0: due tasks were skipped, look again then
	for {
		if fetchNow && running < p.max && ctx.Err() == nil {
			want := min(p.max-running, p.c.cfg.fetchBatch)
			jobs, err := p.c.st.claim(ctx, p.filter, want, p.c.cfg.lease)
			if err != nil && ctx.Err() == nil {
				p.c.log.Error("fetch tasks", "queue", p.filter.queue, "err", err)
			}
			for _, j := range jobs {
				running++
				p.c.execWG.Add(1)
				go func() {
					defer p.c.execWG.Done()
					p.c.execute(j)
					done <- struct{}{}
				}()
			}
			if len(jobs) == want && running < p.max {
				continue // more may be due
			}
			again = p.c.againAfter(ctx, p.filter, len(jobs) < want, again)
		}
		fetchNow = false
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		wait := p.c.cfg.pollInterval
		if again > 0 {
			wait = min(wait, again)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			// In-flight tasks finish on their own; Stop waits for them.
			return
		case <-done:
			running--
		drain:
			for {
				select {
				case <-done:
					running--
				default:
					break drain
				}
			}
			fetchNow = p.max-running >= threshold
		case <-p.poke:
			fetchNow = true
		case <-timer.C:
			fetchNow = true
		}
	}
}
