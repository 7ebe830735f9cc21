package search

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"sync"
)

// Index is one application index (a write alias over a concrete index).
type Index struct {
	e      *Engine
	name   string
	alias  string
	mu     sync.RWMutex
	def    Definition
	fields map[string]Field
}

// Name returns the index name without prefix.
func (ix *Index) Name() string { return ix.name }

// Alias returns the full alias name (prefix + name).
func (ix *Index) Alias() string { return ix.alias }

// Engine returns the index's engine.
func (ix *Index) Engine() *Engine { return ix.e }

// Definition returns the definition the index was opened or last updated with.
func (ix *Index) Definition() Definition {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.def
}

// Field returns the mapped field at path.
func (ix *Index) Field(path string) (Field, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	f, ok := ix.fields[path]
	return f, ok
}

// Document is a document to index: the record id, its revision (the external
// version) and the JSON source.
type Document struct {
	ID       string
	Revision int64
	Source   json.RawMessage
}

// WriteOption configures a write.
type WriteOption func(*writeOpts)

type writeOpts struct{ refresh bool }

// Refresh makes the write visible to searches before the call returns.
func Refresh() WriteOption { return func(o *writeOpts) { o.refresh = true } }

func writeOptions(opts []WriteOption) writeOpts {
	var o writeOpts
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Put indexes one document now. A stale revision (the index holds a newer
// one, or a newer tombstone) is a no-op reported as Stale, not an error; an
// equal revision is rewritten (external_gte). A rejected document returns an
// error wrapping ErrInvalid (a transient engine refusal, e.g. 429, does not).
func (ix *Index) Put(ctx context.Context, d Document, opts ...WriteOption) (Status, error) {
	return ix.one(ctx, Op{Kind: OpIndex, ID: d.ID, Revision: d.Revision, Source: d.Source}, opts)
}

// Delete deletes one document now, leaving a tombstone at revision so that an
// older late write cannot resurrect it. Deleting a missing document is
// Applied (the tombstone is recorded).
func (ix *Index) Delete(ctx context.Context, id string, revision int64, opts ...WriteOption) (Status, error) {
	return ix.one(ctx, Op{Kind: OpDelete, ID: id, Revision: revision}, opts)
}

func (ix *Index) one(ctx context.Context, op Op, opts []WriteOption) (Status, error) {
	rs, err := ix.Bulk(ctx, []Op{op}, opts...)
	if err != nil {
		return Failed, err
	}
	r := rs[0]
	if r.Status == Failed {
		if r.Retryable {
			return Failed, fmt.Errorf("search: %s %s: %s (retry later)", op.Kind, op.ID, r.Reason)
		}
		return Failed, fmt.Errorf("%w: %s %s: %s", ErrInvalid, op.Kind, op.ID, r.Reason)
	}
	return r.Status, nil
}

// Bulk applies ops in one request and returns one result per op (same order).
// The error reports a failure of the whole request; per-item failures are in
// the results and never affect the other items.
func (ix *Index) Bulk(ctx context.Context, ops []Op, opts ...WriteOption) ([]OpResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	for i, op := range ops {
		if op.ID == "" || op.Revision < 0 || (op.Kind != OpIndex && op.Kind != OpDelete) {
			return nil, fmt.Errorf("%w: op %d: needs id, revision >= 0 and kind index|delete", ErrInvalid, i)
		}
	}
	o := writeOptions(opts)
	rs, err := ix.e.drv.Bulk(ctx, ix.alias, ops, o.refresh)
	if err != nil {
		return nil, err
	}
	if len(rs) != len(ops) {
		return nil, fmt.Errorf("search: driver returned %d results for %d ops", len(rs), len(ops))
	}
	return rs, nil
}

// Refresh makes all writes so far visible to searches.
func (ix *Index) Refresh(ctx context.Context) error { return ix.e.drv.Refresh(ctx, ix.alias) }

// Query runs a compiled search spec (see [Searcher] for user requests). The
// _id tie-breaker is appended to the sort when missing.
func (ix *Index) Query(ctx context.Context, s *Spec) (*Results, error) {
	if s.Size < 0 || s.From < 0 || s.From > math.MaxInt32-s.Size {
		return nil, fmt.Errorf("%w: spec: from %d and size %d must be non-negative and bounded", ErrInvalid, s.From, s.Size)
	}
	s2 := *s
	if s2.Query == nil {
		s2.Query = MatchAll{}
	}
	if n := len(s2.Sort); n == 0 || s2.Sort[n-1].Field != "_id" {
		s2.Sort = append(append([]SortField(nil), s2.Sort...), SortField{Field: "_id"})
	}
	if s2.PIT != "" && s2.KeepAlive == "" {
		s2.KeepAlive = "1m"
	}
	ix.mu.RLock()
	err := CheckSpec(&s2, ix.fields)
	ix.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	res, err := ix.e.drv.Search(ctx, ix.alias, &s2)
	if err != nil {
		return nil, err
	}
	if n := len(res.Hits); n > 0 {
		res.Next = encodeCursor(cursor{After: res.Hits[n-1].Sort, PIT: res.PIT})
	}
	return res, nil
}

// OpenPIT opens a point in time on the index (OpenSearch); ErrUnsupported on
// drivers without it.
func (ix *Index) OpenPIT(ctx context.Context, keepAlive string) (string, error) {
	p, ok := ix.e.drv.(PITDriver)
	if !ok {
		return "", ErrUnsupported
	}
	return p.OpenPIT(ctx, ix.alias, keepAlive)
}

// ClosePIT closes a point in time.
func (ix *Index) ClosePIT(ctx context.Context, id string) error {
	p, ok := ix.e.drv.(PITDriver)
	if !ok {
		return ErrUnsupported
	}
	return p.ClosePIT(ctx, id)
}

// Refs streams the (id, revision) of every live document ordered by id, in
// pages (no full load in memory).
func (ix *Index) Refs(ctx context.Context) iter.Seq2[DocRef, error] {
	return refsOf(ctx, ix.e.drv, ix.alias)
}

func refsOf(ctx context.Context, d Driver, index string) iter.Seq2[DocRef, error] {
	return func(yield func(DocRef, error) bool) {
		after := ""
		for {
			page, err := d.Refs(ctx, index, after, 1000)
			if err != nil {
				yield(DocRef{}, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if len(page) < 1000 {
				return
			}
			after = page[len(page)-1].ID
		}
	}
}

// UpdateMapping applies an additive mapping change in place (new fields
// only); other changes are ErrInvalid and need [Index.Reindex].
func (ix *Index) UpdateMapping(ctx context.Context, def Definition) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.def.CheckAdditive(def); err != nil {
		return err
	}
	fm, err := def.FieldMap()
	if err != nil {
		return err
	}
	cs, err := ix.e.drv.Resolve(ctx, ix.alias)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := ix.e.drv.PutMapping(ctx, c, def); err != nil {
			return err
		}
	}
	ix.def, ix.fields = def, fm
	return nil
}
