package blevesearch

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/repokit/repokit/search"
)

// Versions live in the documents themselves: every document carries its
// revision in RevisionField (doc values), and a delete replaces the document
// with a tombstone document of the same id holding only the revision and
// TombstoneField=true, which every search excludes. So the revision and the
// document are written by the same bleve batch (atomic), and a lookup is a
// term lookup plus a doc-value read (no stored-field decoding), with no
// per-batch cost growing with the index (bleve's internal key space is
// copied on every snapshot and would make bulk indexing quadratic).

// revisions reads current revisions from one index reader.
type revisions struct {
	r   index.IndexReader
	dvr index.DocValueReader
}

func newRevisions(r index.IndexReader) (*revisions, error) {
	dvr, err := r.DocValueReader([]string{RevisionField})
	if err != nil {
		return nil, err
	}
	return &revisions{r: r, dvr: dvr}, nil
}

// get returns the stored revision of id (live or tombstone).
func (v *revisions) get(id string) (int64, bool, error) {
	iid, err := v.r.InternalID(id)
	if err != nil || len(iid) == 0 {
		return 0, false, err
	}
	var rev int64
	found := false
	err = v.dvr.VisitDocValues(iid, func(field string, term []byte) {
		pc := numeric.PrefixCoded(term)
		if s, err := pc.Shift(); err != nil || s != 0 {
			return
		}
		if i, err := pc.Int64(); err == nil {
			rev, found = int64(numeric.Int64ToFloat64(i)), true
		}
	})
	return rev, found, err
}

// notTombstone wraps q so that tombstone documents never match.
func notTombstone(q query.Query) query.Query {
	t := bleve.NewBoolFieldQuery(true)
	t.SetField(TombstoneField)
	b := bleve.NewBooleanQuery()
	b.AddMust(q)
	b.AddMustNot(t)
	return b
}

type pendingRev struct {
	rev int64
	ok  bool
}

// Bulk implements search.Driver with the external_gte rule: an op is applied
// when its revision is >= the stored one (live or tombstone), else it is
// Stale. Revisions are read and written under the index's write lock.
func (d *Driver) Bulk(ctx context.Context, name string, ops []search.Op, refresh bool) ([]search.OpResult, error) {
	ts, err := d.targets(name)
	if err != nil {
		return nil, err
	}
	if len(ts) != 1 {
		return nil, fmt.Errorf("%w: %s points at %d indices, writes need exactly one", search.ErrInvalid, name, len(ts))
	}
	b := ts[0]
	res, persisted, err := d.apply(ctx, b, ops)
	if err != nil || persisted == nil {
		return res, err
	}
	// acknowledge only what is on disk: a crash after Batch returns but
	// before bleve's persister wrote the segment would lose the batch
	select {
	case err := <-persisted:
		if err != nil {
			return nil, fmt.Errorf("blevesearch: persist batch: %w", err)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return res, nil
}

// apply checks versions and introduces the batch under the index's write
// lock; persisted receives the outcome of writing it to disk (nil when
// nothing was written or the driver is not durable).
func (d *Driver) apply(ctx context.Context, b *bidx, ops []search.Op) ([]search.OpResult, chan error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	adv, err := b.idx.Advanced()
	if err != nil {
		return nil, nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	revs, err := newRevisions(r)
	if err != nil {
		return nil, nil, err
	}

	res := make([]search.OpResult, len(ops))
	pending := map[string]pendingRev{}
	batch := b.idx.NewBatch()
	for i, op := range ops {
		res[i].ID = op.ID
		cur, ok := pending[op.ID]
		if !ok {
			rev, found, err := revs.get(op.ID)
			if err != nil {
				return nil, nil, err
			}
			cur = pendingRev{rev: rev, ok: found}
		}
		if cur.ok && cur.rev > op.Revision && !op.Force {
			res[i].Status = search.Stale
			continue
		}
		var doc map[string]any
		switch op.Kind {
		case search.OpIndex:
			if doc, err = toDoc(op, b.fields); err != nil {
				res[i].Status, res[i].Reason = search.Failed, err.Error()
				continue
			}
		case search.OpDelete:
			doc = map[string]any{RevisionField: float64(op.Revision), TombstoneField: true}
		}
		if err := batch.Index(op.ID, doc); err != nil {
			res[i].Status, res[i].Reason = search.Failed, err.Error()
			continue
		}
		pending[op.ID] = pendingRev{rev: op.Revision, ok: true}
		res[i].Status = search.Applied
	}
	if batch.Size() == 0 {
		return res, nil, nil
	}
	var persisted chan error
	if !d.noSync {
		persisted = make(chan error, 1)
		batch.SetPersistedCallback(func(err error) { persisted <- err })
	}
	if err := b.idx.Batch(batch); err != nil {
		return nil, nil, fmt.Errorf("blevesearch: batch: %w", err)
	}
	return res, persisted, nil
}

// toDoc turns a source into the map bleve indexes: the decoded JSON plus the
// raw source (stored once) and the revision.
func toDoc(op search.Op, fields map[string]search.Field) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(op.Source, &m); err != nil {
		return nil, fmt.Errorf("source is not a JSON object: %v", err)
	}
	if m == nil {
		return nil, fmt.Errorf("source is not a JSON object")
	}
	var exists []string
	if err := prepare(m, "", fields, &exists); err != nil {
		return nil, fmt.Errorf("mapper_parsing_exception: %v", err)
	}
	delete(m, TombstoneField)
	if len(exists) > 0 {
		m[ExistsField] = exists
	} else {
		delete(m, ExistsField)
	}
	m[SourceField] = string(op.Source)
	m[RevisionField] = float64(op.Revision)
	return m, nil
}

// CanForce implements search.ForceDriver: revisions are checked by this
// driver, so a forced write simply skips the check.
func (d *Driver) CanForce() bool { return true }
