package blevesearch

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/repokit/repokit/search"
)

// version records are internal keys "v\x00<id>" → flag byte (0 live,
// 1 tombstone) + big-endian revision.
func versionKey(id string) []byte { return append([]byte("v\x00"), id...) }

type version struct {
	rev     int64
	deleted bool
	ok      bool
}

func decodeVersion(b []byte) version {
	if len(b) != 9 {
		return version{}
	}
	return version{rev: int64(binary.BigEndian.Uint64(b[1:])), deleted: b[0] == 1, ok: true}
}

func encodeVersion(rev int64, deleted bool) []byte {
	b := make([]byte, 9)
	if deleted {
		b[0] = 1
	}
	binary.BigEndian.PutUint64(b[1:], uint64(rev))
	return b
}

// Bulk implements search.Driver with the external_gte rule: an op is applied
// when its revision is >= the stored one (live or tombstone), else it is
// Stale. Versions are read and written under the index's write lock and stored
// in the same bleve batch as the documents, so they commit together.
func (d *Driver) Bulk(ctx context.Context, name string, ops []search.Op, refresh bool) ([]search.OpResult, error) {
	ts, err := d.targets(name)
	if err != nil {
		return nil, err
	}
	if len(ts) != 1 {
		return nil, fmt.Errorf("%w: %s points at %d indices, writes need exactly one", search.ErrInvalid, name, len(ts))
	}
	b := ts[0]
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	adv, err := b.idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()

	res := make([]search.OpResult, len(ops))
	pending := map[string]version{}
	batch := b.idx.NewBatch()
	for i, op := range ops {
		res[i].ID = op.ID
		cur, ok := pending[op.ID]
		if !ok {
			v, err := r.GetInternal(versionKey(op.ID))
			if err != nil {
				return nil, err
			}
			cur = decodeVersion(v)
		}
		if cur.ok && cur.rev > op.Revision {
			res[i].Status = search.Stale
			continue
		}
		switch op.Kind {
		case search.OpIndex:
			doc, err := toDoc(op, b.fields)
			if err != nil {
				res[i].Status, res[i].Reason = search.Failed, err.Error()
				continue
			}
			if err := batch.Index(op.ID, doc); err != nil {
				res[i].Status, res[i].Reason = search.Failed, err.Error()
				continue
			}
			batch.SetInternal(versionKey(op.ID), encodeVersion(op.Revision, false))
			pending[op.ID] = version{rev: op.Revision, ok: true}
		case search.OpDelete:
			batch.Delete(op.ID)
			batch.SetInternal(versionKey(op.ID), encodeVersion(op.Revision, true))
			pending[op.ID] = version{rev: op.Revision, deleted: true, ok: true}
		}
		res[i].Status = search.Applied
	}
	if batch.Size() > 0 {
		if err := b.idx.Batch(batch); err != nil {
			return nil, fmt.Errorf("blevesearch: batch: %w", err)
		}
	}
	return res, nil
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
	if err := prepare(m, "", fields); err != nil {
		return nil, fmt.Errorf("mapper_parsing_exception: %v", err)
	}
	m[SourceField] = string(op.Source)
	m[RevisionField] = float64(op.Revision)
	return m, nil
}
