package records

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/repokit/repokit/internal/sqldb"
)

// Get returns the record with id: ErrNotFound if there is none, ErrDeleted
// (which also matches ErrNotFound) if it is soft-deleted, unless
// IncludeDeleted is given. One SELECT by primary key.
func (s *Store) Get(ctx context.Context, id uuid.UUID, opts ...GetOption) (*Record, error) {
	var gc getConfig
	for _, o := range opts {
		o(&gc)
	}
	r, err := s.c.getRow(ctx, s.tx, s.c.st.get, id.String())
	if err != nil {
		return nil, err
	}
	if r.Deleted && !gc.includeDeleted {
		return nil, fmt.Errorf("%w: record %s", ErrDeleted, id)
	}
	return r, nil
}

// getManyChunk bounds the ids of one IN (...) query.
const getManyChunk = 1000

// GetMany returns the records with the given ids, in the order of ids.
// Missing ids (and soft-deleted records, unless IncludeDeleted) are omitted;
// repeated ids are returned once.
func (s *Store) GetMany(ctx context.Context, ids []uuid.UUID, opts ...GetOption) ([]*Record, error) {
	var gc getConfig
	for _, o := range opts {
		o(&gc)
	}
	found := make(map[uuid.UUID]*Record, len(ids))
	q := s.querier()
	for start := 0; start < len(ids); start += getManyChunk {
		chunk := ids[start:min(start+getManyChunk, len(ids))]
		strs := make([]string, len(chunk))
		for i, id := range chunk {
			strs[i] = id.String()
		}
		query, args, err := sqldb.In(q, s.c.q.getManyPrefix, strs)
		if err != nil {
			return nil, fmt.Errorf("records: get many: %w", err)
		}
		rows, err := q.QueryxContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("records: get many: %w", err)
		}
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("records: get many: %w", err)
			}
			if !r.Deleted || gc.includeDeleted {
				found[r.ID] = r
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, fmt.Errorf("records: get many: %w", err)
		}
		rows.Close()
	}
	out := make([]*Record, 0, len(found))
	for _, id := range ids {
		if r, ok := found[id]; ok {
			out = append(out, r)
			delete(found, id)
		}
	}
	return out, nil
}
