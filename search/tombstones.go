package search

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// TombstonePurger is implemented by drivers that keep a tombstone per
// deleted document to refuse stale writes (the bleve driver; OpenSearch
// uses external versions and forgets deletes by itself). PurgeTombstones
// deletes the tombstones written before before from the concrete indices
// behind index (an index or alias, full name) and returns how many it
// deleted and how many are left. The caller guarantees that no write
// prepared before before can still arrive: the outbox [Indexer] calls it
// once its queue has drained past them.
type TombstonePurger interface {
	PurgeTombstones(ctx context.Context, index string, before time.Time) (purged, left int64, err error)
}

// Tombstone purging by the outbox indexer.
//
// A tombstone refuses a write of an older revision that arrives after the
// delete. Every such write comes from an index task (or a reindex) that
// read the record before the delete committed: the consumer reads the
// record's current state, so a task delivered later writes the deleted
// state or a newer one. A task that read the record before the delete is
// pending or running until its write is done (a crash makes it pending
// again, and a retry keeps its creation time), and it was created before
// the delete committed, so before the tombstone was written. Hence every
// tombstone written before the creation of the oldest unfinished index task
// (or before now, when there is none), less a margin for clock skew between
// the processes that enqueue and the one that writes the index, protects
// nothing and is deleted. A reindex running in this engine holds the
// cutoff at its start: its catch-up copies documents read from the old
// index.
//
// After a batch that wrote deletes, the consumer arms a timer per index
// (WithTombstonePurge's delay); when it fires, the indexer purges what it can
// and arms it again while tombstones are left. The timer runs in the
// process that wrote the index (an embedded index has one writer process);
// it adds no task, so an idle queue stays idle.

// tombConfig configures tombstone purging.
type tombConfig struct {
	delay, margin time.Duration
	set           bool // WithTombstonePurge given: margin 0 is meant
	off           bool
}

// WithTombstonePurge sets how long after a batch that deleted documents the
// indexer purges their tombstones (and how often it tries again while some
// are left; default 30s), and the margin allowed for clock skew between the
// processes that enqueue index operations and the one writing the index
// (default 1 minute). Only drivers that keep tombstones ([TombstonePurger])
// have any.
func WithTombstonePurge(delay, margin time.Duration) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.tomb.delay, c.tomb.margin, c.tomb.set = delay, margin, true })
}

// WithoutTombstonePurge turns the automatic tombstone purge off
// ([Indexer.PurgeTombstones] still purges on demand).
func WithoutTombstonePurge() IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.tomb.off = true })
}

// purgeTimers holds the armed purge timer of each index.
type purgeTimers struct {
	mu    sync.Mutex
	armed map[string]bool
}

// setupPurge applies the configuration (NewIndexer).
func (ix *indexerCore) setupPurge(c tombConfig) {
	if c.delay <= 0 {
		c.delay = 30 * time.Second
	}
	if !c.set {
		c.margin = time.Minute
	}
	if c.margin < 0 {
		c.margin = 0
	}
	if ix.engine == nil { // an indexer that only enqueues (no engine here)
		c.off = true
	} else if _, ok := ix.engine.Driver().(TombstonePurger); !ok {
		c.off = true
	}
	ix.tomb = c
}

// afterBulk arms the purge of index when the bulk request wrote deletes
// (consume).
func (ix *indexerCore) afterBulk(index string, ops []Op, rs []OpResult) {
	for j, r := range rs {
		if r.Status == Applied && ops[j].Kind == OpDelete {
			ix.deletesWritten(index)
			return
		}
	}
}

// deletesWritten arms the purge of index after a batch that wrote deletes
// there (consume).
func (ix *indexerCore) deletesWritten(index string) {
	if ix.tomb.off {
		return
	}
	t := &ix.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.armed[index] {
		return
	}
	if t.armed == nil {
		t.armed = map[string]bool{}
	}
	t.armed[index] = true
	time.AfterFunc(ix.tomb.delay, func() { ix.purgeLater(index) })
}

func (ix *indexerCore) purgeLater(index string) {
	ix.timers.mu.Lock()
	delete(ix.timers.armed, index)
	ix.timers.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	purged, left, err := (&Indexer{indexerCore: ix}).PurgeTombstones(ctx, index)
	switch {
	case errors.Is(err, ErrClosed):
		return
	case err != nil:
		ix.log.Warn("purge tombstones", "component", "search", "index", index, "err", err)
		return // the next batch that deletes arms it again
	}
	if purged > 0 {
		ix.log.Info("tombstones purged", "component", "search", "index", index, "purged", purged, "left", left)
	}
	if left > 0 {
		ix.deletesWritten(index)
	}
}

// PurgeTombstones deletes the tombstones of index (name without prefix)
// that no write can need any more (see [Indexer.PurgeCutoff]) and returns
// how many it deleted and how many are left; a no-op on drivers without
// tombstones. The indexer calls it by itself after deletes (TombstonePurge).
func (ix *Indexer) PurgeTombstones(ctx context.Context, index string) (purged, left int64, err error) {
	p, ok := ix.engine.Driver().(TombstonePurger)
	if !ok {
		return 0, 0, nil
	}
	x, err := ix.indexNamed(ctx, index)
	if err != nil {
		return 0, 0, err
	}
	cut, err := ix.PurgeCutoff(ctx)
	if err != nil {
		return 0, 0, err
	}
	purged, left, err = p.PurgeTombstones(ctx, x.alias, cut)
	if err != nil {
		return purged, left, fmt.Errorf("search: purge tombstones of %s: %w", index, err)
	}
	return purged, left, nil
}

// PurgeCutoff returns the time before which no write of an index task of
// this indexer can still arrive: the creation of the oldest pending or
// running index task (now if there is none), the start of a reindex in
// progress if earlier, less the clock-skew margin. Tombstones written
// before it protect nothing.
func (ix *Indexer) PurgeCutoff(ctx context.Context) (time.Time, error) {
	cut := time.Now() // before the query: a task created after it is not older
	oldest, ok, err := ix.tc.OldestUnfinished(ctx, ix.taskType)
	if err != nil {
		return time.Time{}, err
	}
	if ok && oldest.Before(cut) {
		cut = oldest
	}
	if h, ok := ix.engine.holds.oldest(); ok && h.Before(cut) {
		cut = h
	}
	return cut.Add(-ix.tomb.margin), nil
}

// holds are the operations in progress that copy documents read earlier
// (reindex): tombstones written since the oldest started must stay.
type holds struct {
	mu     sync.Mutex
	next   int
	starts map[int]time.Time
}

// hold registers an operation starting now; call the result when it ends.
func (h *holds) hold() (release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.starts == nil {
		h.starts = map[int]time.Time{}
	}
	h.next++
	k := h.next
	h.starts[k] = time.Now()
	return func() {
		h.mu.Lock()
		delete(h.starts, k)
		h.mu.Unlock()
	}
}

func (h *holds) oldest() (t time.Time, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.starts {
		if !ok || s.Before(t) {
			t, ok = s, true
		}
	}
	return t, ok
}
