package search

import (
	"context"
	"fmt"
	"iter"
	"sort"

	"github.com/google/uuid"

	"github.com/repokit/repokit/records"
)

// DriftReport is the result of a drift check.
type DriftReport struct {
	Indices []string // the index names checked
	Records int64    // records read from the database (deleted included)
	Docs    int64    // documents read from the indices
	// Missing: live records without a document in their index. Stale:
	// documents whose revision differs from the record's, or documents of
	// deleted records. Orphaned: documents without a record, or in an index
	// the record is not routed to.
	Missing, Stale, Orphaned int64
	// Samples of ids per kind (at most DriftOptions.Samples each).
	MissingIDs, StaleIDs, OrphanedIDs []string
	// Enqueued is the number of repair operations queued (repair mode).
	Enqueued int64
}

// Clean reports whether the indices match the database.
func (r *DriftReport) Clean() bool { return r.Missing+r.Stale+r.Orphaned == 0 }

// DriftOptions configures CheckDrift.
type DriftOptions struct {
	// Repair enqueues an index operation for every drifting id (the
	// consumer then indexes the current state or deletes).
	Repair bool
	// Samples caps the ids kept per kind in the report (default 100).
	Samples int
	// Indices lists the index names to check (default: the indexer's default
	// index). With a router, list every index it routes to.
	Indices []string
}

// recItem is a record ref with the index it should be in ("" when it should
// be in none: deleted).
type recItem struct {
	ref   records.Ref
	index string
}

// recStream streams records in id order with their target index; with a
// router it reads the records page by page (GetMany) to route them.
func (ix *Indexer) recStream(ctx context.Context) iter.Seq2[recItem, error] {
	return func(yield func(recItem, error) bool) {
		const page = 500
		var buf []records.Ref
		flush := func() bool {
			byID := map[uuid.UUID]*records.Record{}
			if ix.router != nil {
				var ids []uuid.UUID
				for _, r := range buf {
					if !r.Deleted {
						ids = append(ids, r.ID)
					}
				}
				if len(ids) > 0 {
					rs, err := ix.store.GetMany(ctx, ids, records.IncludeDeleted())
					if err != nil {
						yield(recItem{}, err)
						return false
					}
					for _, r := range rs {
						byID[r.ID] = r
					}
				}
			}
			for _, r := range buf {
				it := recItem{ref: r}
				if !r.Deleted {
					it.index = ix.index
					if ix.router != nil {
						rec := byID[r.ID]
						if rec == nil { // purged meanwhile
							continue
						}
						name, err := ix.route(rec)
						if err != nil {
							yield(recItem{}, err)
							return false
						}
						it.index = name
					}
				}
				if !yield(it, nil) {
					return false
				}
			}
			buf = buf[:0]
			return true
		}
		for r, err := range ix.store.Refs(ctx) {
			if err != nil {
				yield(recItem{}, err)
				return
			}
			buf = append(buf, r)
			if len(buf) == page && !flush() {
				return
			}
		}
		flush()
	}
}

type docHead struct {
	name string
	next func() (DocRef, error, bool)
	stop func()
	cur  DocRef
	ok   bool
}

// CheckDrift compares the (id, revision) of every record with the indices by
// merge-joining streams ordered by id — records.Store.Refs and Index.Refs of
// each index — so nothing is loaded in memory beyond one page per stream.
// Changes made while it runs can show up as transient drift.
func (ix *Indexer) CheckDrift(ctx context.Context, opts DriftOptions) (*DriftReport, error) {
	if ix.store == nil {
		return nil, fmt.Errorf("search: indexer not attached to a records store")
	}
	if opts.Samples == 0 {
		opts.Samples = 100
	}
	names := opts.Indices
	if len(names) == 0 {
		names = []string{ix.index}
	}
	names = append([]string(nil), names...)
	sort.Strings(names)
	rep := &DriftReport{Indices: names}
	var heads []*docHead
	defer func() {
		for _, h := range heads {
			h.stop()
		}
	}()
	for _, n := range names {
		x, err := ix.indexNamed(ctx, n)
		if err != nil {
			return nil, err
		}
		if err := x.Refresh(ctx); err != nil {
			return nil, err
		}
		next, stop := iter.Pull2(x.Refs(ctx))
		h := &docHead{name: n, next: next, stop: stop}
		heads = append(heads, h)
	}
	advance := func(h *docHead) error {
		var err error
		h.cur, err, h.ok = h.next()
		if h.ok && err != nil {
			return fmt.Errorf("search: drift: index %s: %w", h.name, err)
		}
		return nil
	}
	for _, h := range heads {
		if err := advance(h); err != nil {
			return nil, err
		}
	}
	nextRec, stopRec := iter.Pull2(ix.recStream(ctx))
	defer stopRec()
	rec, rerr, rok := nextRec()

	add := func(ids *[]string, n *int64, id, index string, hint int64) error {
		*n++
		if len(*ids) < opts.Samples {
			*ids = append(*ids, id)
		}
		if opts.Repair {
			if err := ix.Enqueue(ctx, nil, id, index, hint); err != nil {
				return err
			}
			rep.Enqueued++
		}
		return nil
	}
	for {
		if rok && rerr != nil {
			return nil, fmt.Errorf("search: drift: records: %w", rerr)
		}
		minID, have := "", false
		if rok {
			minID, have = rec.ref.ID.String(), true
		}
		for _, h := range heads {
			if h.ok && (!have || h.cur.ID < minID) {
				minID, have = h.cur.ID, true
			}
		}
		if !have {
			break
		}
		var r *recItem
		if rok && rec.ref.ID.String() == minID {
			r = &recItem{ref: rec.ref, index: rec.index}
			rep.Records++
		}
		present := map[string]int64{}
		for _, h := range heads {
			if h.ok && h.cur.ID == minID {
				present[h.name] = h.cur.Revision
				rep.Docs++
				if err := advance(h); err != nil {
					return nil, err
				}
			}
		}
		switch {
		case r == nil:
			for name, rev := range present {
				if err := add(&rep.OrphanedIDs, &rep.Orphaned, minID, name, rev+1); err != nil {
					return nil, err
				}
			}
		case r.ref.Deleted:
			for name := range present {
				if err := add(&rep.StaleIDs, &rep.Stale, minID, name, r.ref.Revision); err != nil {
					return nil, err
				}
			}
		default:
			rev, ok := present[r.index]
			switch {
			case !ok:
				if err := add(&rep.MissingIDs, &rep.Missing, minID, r.index, r.ref.Revision); err != nil {
					return nil, err
				}
			case rev != r.ref.Revision:
				if err := add(&rep.StaleIDs, &rep.Stale, minID, r.index, r.ref.Revision); err != nil {
					return nil, err
				}
			}
			for name := range present {
				if name != r.index {
					if err := add(&rep.OrphanedIDs, &rep.Orphaned, minID, name, r.ref.Revision); err != nil {
						return nil, err
					}
				}
			}
		}
		if r != nil {
			rec, rerr, rok = nextRec()
		}
	}
	return rep, nil
}

// RebuildAll indexes every record of the store into its index now (not
// through the queue): live records are indexed, deleted ones deleted, in
// bulk requests of batch records (default 500), with their revisions as
// versions so that concurrent consumers cannot be overwritten by older
// states. progress, when not nil, is called after every batch.
func (ix *Indexer) RebuildAll(ctx context.Context, batch int, progress func(done int64)) error {
	if ix.store == nil {
		return fmt.Errorf("search: indexer not attached to a records store")
	}
	if batch <= 0 {
		batch = 500
	}
	var done int64
	var refs []records.Ref
	flush := func() error {
		if len(refs) == 0 {
			return nil
		}
		ts := make([]*tasksTask, len(refs))
		for i, r := range refs {
			ts[i] = newTask(r.ID.String())
		}
		for i, err := range ix.consume(ctx, ts) {
			if err != nil {
				return fmt.Errorf("search: rebuild %s: %w", refs[i].ID, err)
			}
		}
		done += int64(len(refs))
		refs = refs[:0]
		if progress != nil {
			progress(done)
		}
		return nil
	}
	for r, err := range ix.store.Refs(ctx) {
		if err != nil {
			return err
		}
		refs = append(refs, r)
		if len(refs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
