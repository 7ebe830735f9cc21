package search

import (
	"context"
	"fmt"
	"iter"

	"github.com/repokit/repokit/records"
)

// DriftReport is the result of a drift check of one index.
type DriftReport struct {
	Index   string
	Records int64 // records read from the database (deleted included)
	Docs    int64 // documents read from the index
	// Missing: live records without a document. Stale: documents whose
	// revision differs from the record's, or documents of deleted records.
	// Orphaned: documents without a record.
	Missing, Stale, Orphaned int64
	// Samples of ids per kind (at most DriftOptions.Samples each).
	MissingIDs, StaleIDs, OrphanedIDs []string
	// Enqueued is the number of repair operations queued (repair mode).
	Enqueued int64
}

// Clean reports whether the index matches the database.
func (r *DriftReport) Clean() bool { return r.Missing+r.Stale+r.Orphaned == 0 }

// DriftOptions configures CheckDrift.
type DriftOptions struct {
	// Repair enqueues an index operation for every drifting id (the
	// consumer then indexes the current state or deletes).
	Repair bool
	// Samples caps the ids kept per kind in the report (default 100).
	Samples int
}

// CheckDrift compares the (id, revision) of every record with the default
// index by merge-joining two streams ordered by id — records.Store.Refs and
// Index.Refs — so neither side is loaded in memory. Changes made while it
// runs can show up as transient drift. With a custom router it checks the
// default index only.
func (ix *Indexer) CheckDrift(ctx context.Context, opts DriftOptions) (*DriftReport, error) {
	if ix.store == nil {
		return nil, fmt.Errorf("search: indexer not attached to a records store")
	}
	if opts.Samples == 0 {
		opts.Samples = 100
	}
	x, err := ix.indexNamed(ctx, ix.index)
	if err != nil {
		return nil, err
	}
	if err := x.Refresh(ctx); err != nil {
		return nil, err
	}
	rep := &DriftReport{Index: ix.index}
	add := func(ids *[]string, n *int64, id string, hint int64) error {
		*n++
		if len(*ids) < opts.Samples {
			*ids = append(*ids, id)
		}
		if opts.Repair {
			if err := ix.Enqueue(ctx, nil, id, hint); err != nil {
				return err
			}
			rep.Enqueued++
		}
		return nil
	}
	nextRec, stopRec := iter.Pull2(ix.store.Refs(ctx))
	defer stopRec()
	nextDoc, stopDoc := iter.Pull2(x.Refs(ctx))
	defer stopDoc()
	rec, rerr, rok := nextRec()
	doc, derr, dok := nextDoc()
	for {
		if rok && rerr != nil {
			return nil, fmt.Errorf("search: drift: records: %w", rerr)
		}
		if dok && derr != nil {
			return nil, fmt.Errorf("search: drift: index: %w", derr)
		}
		if !rok && !dok {
			break
		}
		rid := ""
		if rok {
			rid = rec.ID.String()
		}
		switch {
		case rok && (!dok || rid < doc.ID):
			rep.Records++
			if !rec.Deleted {
				if err := add(&rep.MissingIDs, &rep.Missing, rid, rec.Revision); err != nil {
					return nil, err
				}
			}
			rec, rerr, rok = nextRec()
		case dok && (!rok || doc.ID < rid):
			rep.Docs++
			if err := add(&rep.OrphanedIDs, &rep.Orphaned, doc.ID, doc.Revision+1); err != nil {
				return nil, err
			}
			doc, derr, dok = nextDoc()
		default: // same id
			rep.Records++
			rep.Docs++
			if rec.Deleted || rec.Revision != doc.Revision {
				if err := add(&rep.StaleIDs, &rep.Stale, rid, rec.Revision); err != nil {
					return nil, err
				}
			}
			rec, rerr, rok = nextRec()
			doc, derr, dok = nextDoc()
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
		ids := make([]string, len(refs))
		for i, r := range refs {
			ids[i] = r.ID.String()
		}
		ts := make([]*tasksTask, len(ids))
		for i, id := range ids {
			ts[i] = newTask(id)
		}
		errs := ix.consume(ctx, ts)
		for i, err := range errs {
			if err != nil {
				return fmt.Errorf("search: rebuild %s: %w", ids[i], err)
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
