package blevesearch

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

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
// Tombstones also carry the time they were written (TombstoneAtField), by
// which PurgeTombstones deletes them once no older write can arrive.

// revisions reads current revisions from one index reader.
type revisions struct {
	r   index.IndexReader
	dvr index.DocValueReader
}

func newRevisions(r index.IndexReader) (*revisions, error) {
	dvr, err := r.DocValueReader([]string{RevisionField, TombstoneAtField})
	if err != nil {
		return nil, err
	}
	return &revisions{r: r, dvr: dvr}, nil
}

// get returns the stored revision of id (live or tombstone) and whether
// the document is a dated tombstone.
func (v *revisions) get(id string) (rev int64, tomb, found bool, err error) {
	iid, err := v.r.InternalID(id)
	if err != nil || len(iid) == 0 {
		return 0, false, false, err
	}
	err = v.dvr.VisitDocValues(iid, func(field string, term []byte) {
		pc := numeric.PrefixCoded(term)
		if s, err := pc.Shift(); err != nil || s != 0 {
			return
		}
		switch field {
		case TombstoneAtField:
			tomb = true
		case RevisionField:
			if i, err := pc.Int64(); err == nil {
				rev, found = int64(numeric.Int64ToFloat64(i)), true
			}
		}
	})
	return rev, tomb, found, err
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
	rev  int64
	ok   bool
	tomb bool
}

// Bulk implements search.Driver with the external_gte rule: an op is applied
// when its revision is >= the stored one (live or tombstone), else it is
// Stale. A document's revision is read and written holding its id's lock
// (idLocks).
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
	if err != nil {
		return res, err
	}
	// acknowledge only what is on disk: a crash after Batch returns but
	// before bleve's persister wrote the segment would lose the batch
	for _, p := range persisted {
		select {
		case err := <-p:
			if err != nil {
				return nil, fmt.Errorf("blevesearch: persist batch: %w", err)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return res, nil
}

// shardWrite is the part of a bulk request going to one shard.
type shardWrite struct {
	revs      *revisions
	close     func() error
	batch     *bleve.Batch
	add, drop int64 // tombstones added and removed
}

// idLocks locks sets of document ids: a write holds the ids of its batch
// from reading their revisions until bleve has applied the batch, so that
// batches of different documents run concurrently (analysis and segment
// building are most of the cost), while two writes of one document are
// ordered and each reads the revision the other wrote.
type idLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the holder unlocks
}

// lock takes every id at once (waiting while any is held: holding some
// while waiting for others could deadlock) and returns the unlock.
func (l *idLocks) lock(ctx context.Context, ids []string) (func(), error) {
	for {
		l.mu.Lock()
		var busy chan struct{}
		for _, id := range ids {
			if ch, ok := l.held[id]; ok {
				busy = ch
				break
			}
		}
		if busy == nil {
			if l.held == nil {
				l.held = map[string]chan struct{}{}
			}
			mine := make(chan struct{})
			for _, id := range ids {
				l.held[id] = mine
			}
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				for _, id := range ids {
					delete(l.held, id)
				}
				l.mu.Unlock()
				close(mine)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// prepared is an op's document to index, decoded and checked before any
// lock is taken.
type prepared struct {
	doc map[string]any
	err error
}

// apply checks versions and introduces the batch (one per shard written)
// holding the index's lock shared and the ops' ids; persisted receives the
// outcome of writing each batch to disk (none when nothing was written or
// the driver is not durable).
func (d *Driver) apply(ctx context.Context, b *bidx, ops []search.Op) (_ []search.OpResult, persisted []chan error, _ error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	// decoding the sources needs no lock (fields changes under b.mu held
	// exclusively)
	docs := make([]prepared, len(ops))
	ids := make([]string, 0, len(ops))
	seen := make(map[string]bool, len(ops))
	for i, op := range ops {
		if op.Kind == search.OpIndex {
			docs[i].doc, docs[i].err = toDoc(op, b.fields)
		}
		if !seen[op.ID] {
			seen[op.ID] = true
			ids = append(ids, op.ID)
		}
	}
	unlock, err := b.ids.lock(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()

	ws := make([]*shardWrite, len(b.shards))
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.close()
			}
		}
	}()
	write := func(i int) (*shardWrite, error) {
		if ws[i] != nil {
			return ws[i], nil
		}
		s := b.shards[i]
		adv, err := s.idx.Advanced()
		if err != nil {
			return nil, err
		}
		r, err := adv.Reader()
		if err != nil {
			return nil, err
		}
		revs, err := newRevisions(r)
		if err != nil {
			r.Close()
			return nil, err
		}
		ws[i] = &shardWrite{revs: revs, close: r.Close, batch: s.idx.NewBatch()}
		return ws[i], nil
	}

	res := make([]search.OpResult, len(ops))
	pending := map[string]pendingRev{}
	now := float64(time.Now().UnixMilli())
	for i, op := range ops {
		res[i].ID = op.ID
		si := shardOf(op.ID, len(b.shards))
		w, err := write(si)
		if err != nil {
			return nil, nil, err
		}
		cur, ok := pending[op.ID]
		if !ok {
			rev, tomb, found, err := w.revs.get(op.ID)
			if err != nil {
				return nil, nil, err
			}
			cur = pendingRev{rev: rev, ok: found, tomb: tomb}
		}
		if cur.ok && cur.rev > op.Revision && !op.Force {
			res[i].Status = search.Stale
			continue
		}
		var doc map[string]any
		switch op.Kind {
		case search.OpIndex:
			if docs[i].err != nil {
				res[i].Status, res[i].Reason = search.Failed, docs[i].err.Error()
				continue
			}
			doc = docs[i].doc
		case search.OpDelete:
			doc = map[string]any{RevisionField: float64(op.Revision), TombstoneField: true, TombstoneAtField: now}
		}
		if err := w.batch.Index(op.ID, doc); err != nil {
			res[i].Status, res[i].Reason = search.Failed, err.Error()
			continue
		}
		tomb := op.Kind == search.OpDelete
		switch {
		case tomb && !cur.tomb:
			w.add++
		case !tomb && cur.tomb:
			w.drop++
		}
		pending[op.ID] = pendingRev{rev: op.Revision, ok: true, tomb: tomb}
		res[i].Status = search.Applied
	}
	for i, w := range ws {
		if w == nil || w.batch.Size() == 0 {
			continue
		}
		s := b.shards[i]
		if w.add > 0 { // before the batch, then gen: see shard.tombs and shard.gen
			s.tombs.Add(w.add)
			s.gen.Add(1)
		}
		if !d.noSync {
			p := make(chan error, 1)
			w.batch.SetPersistedCallback(func(err error) { p <- err })
			persisted = append(persisted, p)
		}
		if err := s.idx.Batch(w.batch); err != nil {
			return nil, nil, fmt.Errorf("blevesearch: batch: %w", err)
		}
		if w.drop > 0 {
			s.tombs.Add(-w.drop)
		}
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
	delete(m, TombstoneAtField)
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
