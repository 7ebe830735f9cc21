// Package brokerutil holds the plumbing the subscriptions of the Redis and
// SQS brokers share: the window of messages a subscription holds (a credit
// per message, and the set its lease-extension loop renews) and the
// lifecycle of its background loops (one context, closed once, waited for).
package brokerutil

import (
	"context"
	"sync"
	"time"
)

// Window bounds and tracks the messages a subscription holds: fetched or
// received, neither acknowledged nor handed back. A message takes a credit
// (Reserve) before it is fetched and keeps it while held (Hold) until
// Release; at most Size credits are out. Deliveries are acked only once
// their outcome is committed (the tasks completer batches commits), so a
// subscription sizes its window at several times its prefetch.
type Window[K comparable] struct {
	credit chan struct{} // one token per credit taken

	mu   sync.Mutex
	held map[K]struct{}
}

// NewWindow returns a window of size credits (at least 1).
func NewWindow[K comparable](size int) *Window[K] {
	return &Window[K]{credit: make(chan struct{}, max(size, 1)), held: map[K]struct{}{}}
}

// Size is the most credits out at once.
func (w *Window[K]) Size() int { return cap(w.credit) }

// Reserve takes a credit, waiting until one is free; it fails only when ctx
// ends first.
func (w *Window[K]) Reserve(ctx context.Context) error {
	select {
	case w.credit <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ReserveUpTo takes up to n credits without waiting and returns how many
// it took.
func (w *Window[K]) ReserveUpTo(n int) int {
	for i := range n {
		select {
		case w.credit <- struct{}{}:
		default:
			return i
		}
	}
	return n
}

// Unreserve gives back n credits taken for messages that did not come, or
// that are not held (dropped, or already held under the same key).
func (w *Window[K]) Unreserve(n int) {
	for range n {
		select {
		case <-w.credit:
		default:
			return
		}
	}
}

// Hold records k as held on the credit reserved for it. It reports false
// if k was held already (a message claimed back while its first delivery
// is still running): the caller keeps the one delivery and unreserves.
func (w *Window[K]) Hold(k K) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.held[k]; ok {
		return false
	}
	w.held[k] = struct{}{}
	return true
}

// Release forgets k and frees its credit; it reports false (and frees
// nothing) if k was not held.
func (w *Window[K]) Release(k K) bool {
	w.mu.Lock()
	_, ok := w.held[k]
	delete(w.held, k)
	w.mu.Unlock()
	if ok {
		w.Unreserve(1)
	}
	return ok
}

// Held returns the keys held now, in no order.
func (w *Window[K]) Held() []K {
	w.mu.Lock()
	defer w.mu.Unlock()
	ks := make([]K, 0, len(w.held))
	for k := range w.held {
		ks = append(ks, k)
	}
	return ks
}

// Loops runs a subscription's background goroutines on one context and
// closes the subscription once.
type Loops struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// NewLoops returns the lifecycle of a new, open subscription.
func NewLoops() *Loops {
	ctx, cancel := context.WithCancel(context.Background())
	return &Loops{ctx: ctx, cancel: cancel}
}

// Context ends when Close is called.
func (l *Loops) Context() context.Context { return l.ctx }

// Go runs f in a goroutine that Close cancels (through f's ctx) and waits
// for.
func (l *Loops) Go(f func(ctx context.Context)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f(l.ctx)
	}()
}

// Every calls f every period (first after one period) until Close.
func (l *Loops) Every(period time.Duration, f func(ctx context.Context)) {
	l.Go(func(ctx context.Context) {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			f(ctx)
		}
	})
}

// IfOpen calls f if Close has not been called, holding Close off until f
// returns, and reports whether it called f.
func (l *Loops) IfOpen(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	f()
	return true
}

// Closed reports whether Close has been called.
func (l *Loops) Closed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Close marks the subscription closed, calls atClose (if not nil; no
// IfOpen runs meanwhile, and none runs its f after), cancels the context
// and waits for the goroutines of Go and Every. Only the first call does
// this; it reports whether it was the first.
func (l *Loops) Close(atClose func()) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.closed = true
	if atClose != nil {
		atClose()
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	return true
}
