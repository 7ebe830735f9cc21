package records

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// CreateMany stores docs as new records in one transaction, with multi-row
// INSERTs of up to 500 records (and at most 4 MiB) each, and returns them in
// the order of docs. Every document is validated first; if any fails, the
// error names its index and nothing is written. Create hooks run for each
// record.
func (s *Store) CreateMany(ctx context.Context, docs []json.RawMessage) ([]*Record, error) {
	for i, doc := range docs {
		if err := s.c.validate(doc); err != nil {
			return nil, fmt.Errorf("records: document %d: %w", i, err)
		}
	}
	ids := make([]uuid.UUID, len(docs))
	for i := range ids {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("records: new id: %w", err)
		}
		ids[i] = id
	}
	var out []*Record
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.c.timestamp()
		out = make([]*Record, len(docs))
		events := make([]*Event, len(docs))
		for i, doc := range docs {
			rec := &Record{ID: ids[i], JSON: doc, Created: now, Updated: now}
			events[i] = &Event{Op: OpCreate, Record: rec}
			if err := s.c.beforeWrite(ctx, tx, events[i]); err != nil {
				return fmt.Errorf("records: document %d: %w", i, err)
			}
			out[i] = events[i].Record
		}
		for start := 0; start < len(out); {
			end, size := start, 0
			for end < len(out) && end-start < bulkRows && (end == start || size+len(out[end].JSON) <= bulkBytes) {
				size += len(out[end].JSON)
				end++
			}
			if err := s.c.insertBatch(ctx, tx, out[start:end], now); err != nil {
				return err
			}
			start = end
		}
		for _, ev := range events {
			if err := s.c.runAfter(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertBatch writes recs with one multi-row INSERT: one row per record,
// the history table is not touched (revision 0 is the current row).
func (c *core) insertBatch(ctx context.Context, tx *sqlx.Tx, recs []*Record, now any) error {
	query := c.q.bulkFull
	if len(recs) != bulkRows {
		query = bulkInsert(c.db, len(recs))
	}
	args := make([]any, 0, 4*len(recs))
	for _, r := range recs {
		args = append(args, r.ID.String(), string(r.JSON), now, now)
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("%w: a record id already exists", ErrConflict)
		}
		return fmt.Errorf("records: bulk create: %w", err)
	}
	return nil
}
