package search

import (
	"context"
	"errors"
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
	// Ahead counts the Stale documents whose revision is higher than the
	// database's (the database was restored from a backup): the version
	// rule keeps them, so repair forces the database's state over them
	// (drivers with ForceDriver) or rebuilds their index (Rebuilt).
	Ahead    int64
	AheadIDs []string
	// Enqueued is the number of repair operations queued (repair mode).
	Enqueued int64
	// Rebuilt lists the indices repair rebuilt from the database into a
	// fresh concrete index (ahead documents on a driver that cannot force).
	Rebuilt []string
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
	// the walk reads every id and revision of the indices: release the
	// pages of their files as it goes, so the RSS does not grow with them
	defer releaseWhile(ctx, ix.engine.Driver(), ix.log, names...)()
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

	canForce := false
	if f, ok := ix.engine.Driver().(ForceDriver); ok {
		canForce = f.CanForce()
	}
	rebuild := map[string]bool{}
	addOpt := func(ids *[]string, n *int64, id, index string, hint int64, ahead bool) error {
		*n++
		if len(*ids) < opts.Samples {
			*ids = append(*ids, id)
		}
		if ahead {
			rep.Ahead++
			if len(rep.AheadIDs) < opts.Samples {
				rep.AheadIDs = append(rep.AheadIDs, id)
			}
		}
		if opts.Repair {
			if ahead && !canForce {
				rebuild[index] = true
				return nil
			}
			if err := ix.enqueue(ctx, id, index, hint, ahead); err != nil {
				return err
			}
			rep.Enqueued++
		}
		return nil
	}
	add := func(ids *[]string, n *int64, id, index string, hint int64) error {
		return addOpt(ids, n, id, index, hint, false)
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
			for name, rev := range present {
				if err := addOpt(&rep.StaleIDs, &rep.Stale, minID, name, r.ref.Revision, rev > r.ref.Revision); err != nil {
					return nil, err
				}
			}
		default:
			rev, ok := present[r.index]
			switch {
			case !ok:
				// a tombstone ahead of the database may hide it: force
				// where the driver can (a plain write would be stale)
				if err := ix.missing(ctx, rep, opts, minID, r.index, r.ref.Revision, canForce); err != nil {
					return nil, err
				}
			case rev != r.ref.Revision:
				if err := addOpt(&rep.StaleIDs, &rep.Stale, minID, r.index, r.ref.Revision, rev > r.ref.Revision); err != nil {
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
	for _, name := range names {
		if rebuild[name] {
			if err := ix.RebuildFresh(ctx, name, 0); err != nil {
				return rep, fmt.Errorf("search: drift repair: rebuild %s: %w", name, err)
			}
			rep.Rebuilt = append(rep.Rebuilt, name)
		}
	}
	return rep, nil
}

// missing records a live record without a document; repair forces its
// write where the driver can, since a tombstone ahead of the database
// (invisible to Refs) would make a plain write stale.
func (ix *Indexer) missing(ctx context.Context, rep *DriftReport, opts DriftOptions, id, index string, rev int64, canForce bool) error {
	rep.Missing++
	if len(rep.MissingIDs) < opts.Samples {
		rep.MissingIDs = append(rep.MissingIDs, id)
	}
	if !opts.Repair {
		return nil
	}
	if err := ix.enqueue(ctx, id, index, rev, canForce); err != nil {
		return err
	}
	rep.Enqueued++
	return nil
}

// RebuildFresh rebuilds index name (without prefix) from the database into a
// new concrete index with the current definition and switches the alias to
// it, then deletes the old concrete index: the way to repair an index that
// holds revisions ahead of the database on drivers that cannot overwrite a
// higher version (OpenSearch's external versions). Writes that reach the old
// index during the rebuild are caught up by enqueueing every record changed
// meanwhile through a drift check with repair after the switch. batch is
// the bulk size (default 500).
func (ix *Indexer) RebuildFresh(ctx context.Context, name string, batch int) error {
	if ix.store == nil {
		return fmt.Errorf("search: indexer not attached to a records store")
	}
	if batch <= 0 {
		batch = 500
	}
	x, err := ix.indexNamed(ctx, name)
	if err != nil {
		return err
	}
	e, d := ix.engine, ix.engine.Driver()
	olds, err := d.Resolve(ctx, x.alias)
	if err != nil {
		return err
	}
	next, err := e.concreteName(ctx, x.alias)
	if err != nil {
		return err
	}
	if err := d.CreateIndex(ctx, next, x.Definition()); err != nil {
		return err
	}
	stopRelease := releaseWhile(ctx, d, ix.log, next) // the merges of next read its segments
	defer stopRelease()
	fail := func(err error) error {
		stopRelease()
		_ = d.DeleteIndex(ctx, next)
		return err
	}
	var ops []Op
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		rs, err := d.Bulk(ctx, next, ops, false)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Status == Failed {
				return fmt.Errorf("search: rebuild %s: %s", r.ID, r.Reason)
			}
		}
		ops = ops[:0]
		return nil
	}
	var ids []uuid.UUID
	load := func() error {
		if len(ids) == 0 {
			return nil
		}
		rs, err := ix.store.GetMany(ctx, ids, records.IncludeDeleted())
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Deleted {
				continue
			}
			to, err := ix.route(r)
			if err != nil {
				return err
			}
			if to != name {
				continue
			}
			src, err := ix.dumper(ctx, r)
			if err != nil {
				return fmt.Errorf("search: dump record %s: %w", r.ID, err)
			}
			ops = append(ops, Op{Kind: OpIndex, ID: r.ID.String(), Revision: r.Revision, Source: src})
		}
		ids = ids[:0]
		return flush()
	}
	for r, err := range ix.store.Refs(ctx) {
		if err != nil {
			return fail(err)
		}
		if r.Deleted {
			continue
		}
		ids = append(ids, r.ID)
		if len(ids) == batch {
			if err := load(); err != nil {
				return fail(err)
			}
		}
	}
	if err := load(); err != nil {
		return fail(err)
	}
	if err := d.Refresh(ctx, next); err != nil {
		return fail(err)
	}
	if err := d.SwitchAlias(ctx, x.alias, next); err != nil {
		return fail(err)
	}
	for _, o := range olds {
		if err := d.DeleteIndex(ctx, o); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	// changes made while copying went to the old index: find and requeue
	// them (the new index has no ahead documents, so plain writes converge)
	_, err = ix.CheckDrift(ctx, DriftOptions{Repair: true, Indices: []string{name}})
	return err
}

// RebuildAll indexes every record of the store into its index now (not
// through the queue): live records are indexed, deleted ones deleted, in
// bulk requests of batch records (default 500), with their revisions as
// versions so that concurrent consumers cannot be overwritten by older
// states. On drivers with [ForceDriver] the writes are forced, so that an
// index ahead of the database (restored from a backup) converges too; on
// others use [Indexer.RebuildFresh] (or CheckDrift with Repair, which does).
// progress, when not nil, is called after every batch.
func (ix *Indexer) RebuildAll(ctx context.Context, batch int, progress func(done int64)) error {
	if ix.store == nil {
		return fmt.Errorf("search: indexer not attached to a records store")
	}
	force := false
	if f, ok := ix.engine.Driver().(ForceDriver); ok {
		force = f.CanForce()
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
			ts[i].Args.Force = force
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
