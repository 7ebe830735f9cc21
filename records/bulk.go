package records

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

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
	if err := s.c.validateAll(docs); err != nil {
		return nil, err
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

// validateParallelMin is the number of documents from which CreateMany
// validates on every core: checking the JSON costs about as much CPU as the
// database's insert of it.
const validateParallelMin = 256

// validateAll validates docs (in contiguous chunks, one per core, for large
// batches) and returns the error of the invalid document of lowest index.
func (c *core) validateAll(docs []json.RawMessage) error {
	workers := min(runtime.GOMAXPROCS(0), len(docs)/(validateParallelMin/2))
	if len(docs) < validateParallelMin || workers < 2 {
		for i, doc := range docs {
			if err := c.validate(doc); err != nil {
				return fmt.Errorf("records: document %d: %w", i, err)
			}
		}
		return nil
	}
	chunk := (len(docs) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(docs))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				if err := c.validate(docs[i]); err != nil {
					errs[w] = fmt.Errorf("records: document %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // chunks are in order: the lowest index
		}
	}
	return nil
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
