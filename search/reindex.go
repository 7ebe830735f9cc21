package search

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"
)

// residentReleaser is implemented by drivers whose indices are files mapped
// into the process's memory (blevesearch.Driver): ReleaseResident drops the
// pages of an index's files that reads have brought into the process's
// resident set (they stay in the kernel's page cache). Without it, a walk
// over a whole index (a reindex, a drift check) grows the RSS by the size
// of the index it reads.
type residentReleaser interface {
	ReleaseResident(ctx context.Context, name string) error
}

// releaseInterval is how often a walk over whole indices releases their
// mapped pages. What stays resident is what bleve touches in that time,
// whatever the size of the index: bleve's merges read segments at memory
// speed (up to ~75 MiB were mapped between two releases 250 ms apart in
// a reindex of 100k records). A release costs a read of /proc/self/maps
// and a madvise per segment file, well under a millisecond.
const releaseInterval = 100 * time.Millisecond

// releaseWhile releases the resident pages of names now and then every
// releaseInterval until the returned stop is called (and once more then),
// if the driver maps index files; else it does nothing. Failures are
// logged: releasing is about memory use, never about correctness.
func releaseWhile(ctx context.Context, d Driver, log *slog.Logger, names ...string) (stop func()) {
	r, ok := d.(residentReleaser)
	if !ok {
		return func() {}
	}
	release := func() {
		for _, n := range names {
			if err := r.ReleaseResident(ctx, n); err != nil && ctx.Err() == nil && log != nil {
				log.Debug("search: release resident index pages", "index", n, "err", err)
			}
		}
	}
	release()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(releaseInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				release()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			release()
		})
	}
}

// Progress reports the state of a reindex.
type Progress struct {
	Phase string // "copy" (before the alias switch) or "catchup" (after it)
	Done  int64  // documents copied so far in this phase
	Total int64  // documents in the source index when the phase started
}

// ReindexOption configures Reindex.
type ReindexOption func(*reindexOpts)

type reindexOpts struct {
	progress func(Progress)
	keepOld  bool
	batch    int
}

// OnProgress sets a progress callback, called after every batch.
func OnProgress(f func(Progress)) ReindexOption { return func(o *reindexOpts) { o.progress = f } }

// KeepOld keeps the previous concrete index instead of deleting it.
func KeepOld() ReindexOption { return func(o *reindexOpts) { o.keepOld = true } }

// ReindexBatch sets the largest number of documents per bulk request
// (default 500). Requests carry fewer when documents are large: about
// 512 KiB of sources, so that the memory a request takes
// (its documents, and the analysis and segment an embedded driver builds
// from them, dozens of times their size) stays bounded whatever the
// documents.
func ReindexBatch(n int) ReindexOption { return func(o *reindexOpts) { o.batch = n } }

// reindexBatchBytes is about the size of the sources a reindex request
// carries: the next request takes as many documents as fit at the average
// size of the last one's (at least one, at most the batch).
const reindexBatchBytes = 512 << 10

// firstBatch is the number of documents of the first request, before
// their size is known.
func firstBatch(o reindexOpts) int { return min(o.batch, 100) }

// nextBatch is the number of documents of the next request after one of
// n documents holding size bytes of sources (cur: its planned number,
// kept when it told nothing about the sizes).
func nextBatch(o reindexOpts, cur, n, size int) int {
	if n == 0 || size == 0 {
		return cur
	}
	return max(1, min(o.batch, reindexBatchBytes*n/size))
}

// Reindex creates a new concrete index with def, copies every document into
// it (keeping revisions as external versions), switches the alias atomically
// and then copies what was written to the old index meanwhile (the ids
// whose revision there is higher than in the new index, found by walking
// both indices' ids), so searches and writes go on during the whole
// operation. Memory stays flat: both walks hold one page at a time, a
// page of about 512 KiB of sources, and the pages of the index files the
// walk maps in are released as it goes. A delete that hits the old index
// between the two copies can leave an orphan in the new one; the drift
// check of [Indexer] reports and repairs it.
func (ix *Index) Reindex(ctx context.Context, def Definition, opts ...ReindexOption) error {
	defer ix.e.holds.hold()() // tombstones.go: the catch-up copies documents read earlier
	o := reindexOpts{batch: 500}
	for _, f := range opts {
		f(&o)
	}
	if o.batch <= 0 {
		o.batch = 500
	}
	fm, err := def.FieldMap()
	if err != nil {
		return err
	}
	d := ix.e.drv
	olds, err := d.Resolve(ctx, ix.alias)
	if err != nil {
		return err
	}
	if len(olds) != 1 {
		return fmt.Errorf("%w: alias %s points at %d indices", ErrInvalid, ix.alias, len(olds))
	}
	old := olds[0]
	next, err := ix.e.concreteName(ctx, ix.alias)
	if err != nil {
		return err
	}
	if err := d.CreateIndex(ctx, next, def); err != nil {
		return err
	}
	// reading every document of old and merging the segments of next
	// would map both indices' files page by page into the process: release
	// them as the copy goes, so the RSS does not grow with the index
	stopRelease := releaseWhile(ctx, d, ix.e.log, old, next)
	defer stopRelease()
	if err := copyIndex(ctx, d, old, next, "copy", o); err != nil {
		_ = d.DeleteIndex(ctx, next)
		return err
	}
	if err := d.SwitchAlias(ctx, ix.alias, next); err != nil {
		_ = d.DeleteIndex(ctx, next)
		return err
	}
	ix.mu.Lock()
	ix.def, ix.fields = def, fm
	ix.mu.Unlock()
	if err := catchUp(ctx, d, old, next, o); err != nil {
		return fmt.Errorf("search: reindex catch-up after alias switch: %w", err)
	}
	if !o.keepOld {
		stopRelease() // before old is deleted
		if err := d.DeleteIndex(ctx, old); err != nil {
			return err
		}
	}
	return nil
}

// catchUp copies into to the documents of from that changed after the
// copy read them: it merge-joins the two indices' Refs (by id) and copies
// only the ids whose revision in from is higher than in to, or that to
// lacks, so the catch-up costs a walk of the ids plus what changed, not a
// second copy of everything.
func catchUp(ctx context.Context, d Driver, from, to string, o reindexOpts) error {
	if err := d.Refresh(ctx, from); err != nil {
		return err
	}
	if err := d.Refresh(ctx, to); err != nil {
		return err
	}
	head, err := d.Search(ctx, from, &Spec{Query: MatchAll{}, Size: 0, TrackTotal: true})
	if err != nil {
		return err
	}
	p := Progress{Phase: "catchup", Total: head.Total}
	nextTo, stopTo := iter.Pull2(refsOf(ctx, d, to))
	defer stopTo()
	cur, err, ok := nextTo()
	var ids []string
	n := firstBatch(o)
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		ops, size, err := fetchOps(ctx, d, from, ids)
		if err != nil {
			return err
		}
		if err := bulkAll(ctx, d, to, ops); err != nil {
			return err
		}
		p.Done += int64(len(ops))
		if o.progress != nil {
			o.progress(p)
		}
		ids = ids[:0]
		n = nextBatch(o, n, len(ops), size)
		return nil
	}
	for r, rerr := range refsOf(ctx, d, from) {
		if rerr != nil {
			return rerr
		}
		for ok && err == nil && cur.ID < r.ID {
			cur, err, ok = nextTo()
		}
		if ok && err != nil {
			return err
		}
		if ok && cur.ID == r.ID && cur.Revision >= r.Revision {
			continue
		}
		ids = append(ids, r.ID)
		if len(ids) >= n {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return d.Refresh(ctx, to)
}

// bulkAll writes ops (if any) and fails on the first failed item.
func bulkAll(ctx context.Context, d Driver, to string, ops []Op) error {
	if len(ops) == 0 {
		return nil
	}
	rs, err := d.Bulk(ctx, to, ops, false)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Status == Failed {
			return fmt.Errorf("search: reindex %s: %s", r.ID, r.Reason)
		}
	}
	return nil
}

func copyIndex(ctx context.Context, d Driver, from, to, phase string, o reindexOpts) error {
	if err := d.Refresh(ctx, from); err != nil {
		return err
	}
	head, err := d.Search(ctx, from, &Spec{Query: MatchAll{}, Size: 0, TrackTotal: true})
	if err != nil {
		return err
	}
	p := Progress{Phase: phase, Total: head.Total}
	// Pages of ids come from Refs (a keyset walk by id, O(page) on every
	// driver), the documents from a search by those ids: a search_after on
	// _id would cost a pass over the whole index per page on bleve.
	after, n := "", firstBatch(o)
	for {
		refs, err := d.Refs(ctx, from, after, n)
		if err != nil {
			return err
		}
		if len(refs) == 0 {
			break
		}
		ids := make([]string, len(refs))
		for i, r := range refs {
			ids[i] = r.ID
		}
		ops, size, err := fetchOps(ctx, d, from, ids)
		if err != nil {
			return err
		}
		if err := bulkAll(ctx, d, to, ops); err != nil {
			return err
		}
		p.Done += int64(len(ops))
		if o.progress != nil {
			o.progress(p)
		}
		if len(refs) < n {
			break
		}
		after = refs[len(refs)-1].ID
		n = nextBatch(o, n, len(ops), size)
	}
	return d.Refresh(ctx, to)
}

// fetchOps reads the documents ids from index from as index operations
// (keeping their revisions) and returns the size of their sources.
func fetchOps(ctx context.Context, d Driver, from string, ids []string) ([]Op, int, error) {
	res, err := d.Search(ctx, from, &Spec{Query: IDs{Values: ids}, Size: len(ids)})
	if err != nil {
		return nil, 0, err
	}
	ops := make([]Op, 0, len(res.Hits))
	size := 0
	for _, h := range res.Hits {
		ops = append(ops, Op{Kind: OpIndex, ID: h.ID, Revision: h.Revision, Source: h.Source})
		size += len(h.Source)
	}
	return ops, size, nil
}
