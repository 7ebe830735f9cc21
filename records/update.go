package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Update replaces the document of record id, which the caller read at
// revision; it returns the record at revision+1. If the record has moved on
// (another commit won), it fails with ErrConflict and changes nothing: read
// again and retry. A soft-deleted record fails with ErrDeleted; doc is
// validated before any SQL runs.
func (s *Store) Update(ctx context.Context, id uuid.UUID, doc json.RawMessage, revision int64) (*Record, error) {
	if err := s.c.validate(doc); err != nil {
		return nil, err
	}
	if s.tx == nil && s.c.q.updateOne != "" && !s.c.hooks.has(OpUpdate) {
		return s.updateOne(ctx, id, doc, revision)
	}
	return s.commit(ctx, OpUpdate, id, &revision, func(_ *sqlx.Tx, prev *Record) (*Record, error) {
		if prev.Deleted {
			return nil, fmt.Errorf("%w: record %s", ErrDeleted, id)
		}
		return &Record{JSON: doc}, nil
	})
}

// updateOne is Update as one self-committing statement (PostgreSQL, no
// update hooks, no caller transaction). When it changes nothing, a read
// tells why, with the same errors as the transactional path.
func (s *Store) updateOne(ctx context.Context, id uuid.UUID, doc json.RawMessage, revision int64) (*Record, error) {
	now := s.c.timestamp()
	var created time.Time
	err := s.c.queryRow(ctx, nil, s.c.st.updateOne, string(doc), now, id.String(), revision).Scan(&created)
	if err == nil {
		return &Record{ID: id, JSON: doc, Revision: revision + 1, Created: created.UTC(), Updated: now}, nil
	}
	if err != sql.ErrNoRows {
		return nil, fmt.Errorf("records: update %s: %w", id, err)
	}
	cur, err := s.Get(ctx, id, IncludeDeleted())
	switch {
	case err != nil:
		return nil, err
	case cur.Revision != revision:
		return nil, fmt.Errorf("%w: record %s is at revision %d, not %d", ErrConflict, id, cur.Revision, revision)
	case cur.Deleted:
		return nil, fmt.Errorf("%w: record %s", ErrDeleted, id)
	}
	return nil, fmt.Errorf("%w: record %s changed concurrently (expected revision %d)", ErrConflict, id, revision)
}
