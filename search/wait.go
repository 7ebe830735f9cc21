package search

import (
	"context"
	"fmt"
	"time"

	"github.com/repokit/repokit/records"
)

// WaitRevision waits until searches of the index see document id at
// revision rev or a newer one, polling with a growing interval (10ms up to
// 250ms) until ctx ends. It is how a caller makes its own write visible
// before answering ("read your writes"): after [Index.Put] (or use the
// [Refresh] write option instead), or after a record change that reaches
// the index through the outbox ([Indexer.WaitSearchable] routes for you).
// A document deleted at rev or later never shows: use [Index.WaitGone].
func (ix *Index) WaitRevision(ctx context.Context, id string, rev int64) error {
	return ix.poll(ctx, id, func(h *Hit) bool { return h != nil && h.Revision >= rev })
}

// WaitGone waits until searches no longer see document id.
func (ix *Index) WaitGone(ctx context.Context, id string) error {
	return ix.poll(ctx, id, func(h *Hit) bool { return h == nil })
}

func (ix *Index) poll(ctx context.Context, id string, done func(*Hit) bool) error {
	wait := 10 * time.Millisecond
	for {
		res, err := ix.Query(ctx, &Spec{Query: IDs{Values: []string{id}}, Size: 1})
		if err != nil {
			return err
		}
		var h *Hit
		if len(res.Hits) > 0 {
			h = &res.Hits[0]
		}
		if done(h) {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("search: waiting for %s in %s: %w", id, ix.name, ctx.Err())
		case <-t.C:
		}
		if wait < 250*time.Millisecond {
			wait *= 2
		}
	}
}

// WaitSearchable waits until the state of record r (as returned by a
// records.Store write) is what searches see: its revision or a newer one in
// the index the router sends it to, or its absence when r is deleted. Bound
// it with ctx; the outbox consumer must be running (tasks.Client.Start).
func (ix *Indexer) WaitSearchable(ctx context.Context, r *records.Record) error {
	name, err := ix.route(r)
	if err != nil {
		return err
	}
	x, err := ix.indexNamed(ctx, name)
	if err != nil {
		return err
	}
	if r.Deleted {
		return x.WaitGone(ctx, r.ID.String())
	}
	return x.WaitRevision(ctx, r.ID.String(), r.Revision)
}
