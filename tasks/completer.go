package tasks

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// completer writes successful runs in batches, as River does: a handler's
// slot is free as soon as it returns, and one UPDATE marks many tasks
// completed. A completion lost in a crash is harmless: the task's lease
// expires and it runs again (at-least-once).
type completer struct {
	c      *Client
	mu     sync.RWMutex
	closed bool
	ch     chan completion
	done   chan struct{}
}

const completerBatch = 1000

func newCompleter(c *Client) *completer {
	cp := &completer{c: c, ch: make(chan completion, 4*completerBatch), done: make(chan struct{})}
	go cp.run()
	return cp
}

// add queues a completion; after close (a handler outliving Stop) it is
// dropped and the task's lease expiry makes it run again.
func (cp *completer) add(x completion) {
	cp.mu.RLock()
	defer cp.mu.RUnlock()
	if cp.closed {
		if x.after != nil {
			x.after()
		}
		return
	}
	cp.ch <- x
}

// close flushes what is queued and stops.
func (cp *completer) close() {
	cp.mu.Lock()
	cp.closed = true
	close(cp.ch)
	cp.mu.Unlock()
	<-cp.done
}

func (cp *completer) run() {
	defer close(cp.done)
	batch := make([]completion, 0, completerBatch)
	for first := range cp.ch {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < completerBatch {
			select {
			case x, ok := <-cp.ch:
				if !ok {
					break drain
				}
				batch = append(batch, x)
			default:
				break drain
			}
		}
		cp.flush(batch)
	}
}

func (cp *completer) flush(batch []completion) {
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = cp.c.st.completeMany(ctx, batch)
		cancel()
		if err == nil {
			break
		}
		time.Sleep(time.Duration(50<<try) * time.Millisecond)
	}
	for _, x := range batch {
		if x.after != nil {
			x.after()
		}
	}
	if err != nil {
		cp.c.log.Error("record completions; the tasks run again when their leases expire", "count", len(batch), "err", err)
		return
	}
	if rc := cp.c.cfg.resultCache; rc != nil {
		for _, x := range batch {
			if x.result == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := rc.Set(ctx, cp.c.resultKey(x.id), x.result, cp.c.cfg.resultRetention); err != nil {
				cp.c.log.Warn("cache task result", "task_id", x.id, "err", err)
			}
			cancel()
		}
	}
}

func (c *Client) resultKey(id int64) string {
	return c.cfg.resultCachePrefix + strconv.FormatInt(id, 10)
}
