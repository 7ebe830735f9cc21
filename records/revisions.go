package records

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Revisions returns every committed revision of record id, oldest first
// (revision 0 is the creation; the last is the record's current state). A record that does not exist (or was
// purged) fails with ErrNotFound.
func (s *Store) Revisions(ctx context.Context, id uuid.UUID) ([]*Revision, error) {
	rows, err := s.querier().QueryxContext(ctx, s.c.q.revisions, id.String(), id.String())
	if err != nil {
		return nil, fmt.Errorf("records: revisions of %s: %w", id, err)
	}
	defer rows.Close()
	var out []*Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, fmt.Errorf("records: revisions of %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("records: revisions of %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: record %s", ErrNotFound, id)
	}
	return out, nil
}

// Revision returns revision n of record id, or ErrNotFound.
func (s *Store) Revision(ctx context.Context, id uuid.UUID, n int64) (*Revision, error) {
	return s.revision(ctx, s.querier(), id, n)
}

func (s *Store) revision(ctx context.Context, q interface {
	QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row
}, id uuid.UUID, n int64) (*Revision, error) {
	r, err := scanRevision(q.QueryRowxContext(ctx, s.c.q.revision, id.String(), n, id.String(), n))
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("%w: record %s revision %d", ErrNotFound, id, n)
	}
	if err != nil {
		return nil, fmt.Errorf("records: revision %d of %s: %w", n, id, err)
	}
	return r, nil
}

// Revert makes a new revision of record id whose JSON is that of revision n
// (validated again, against today's schemas). A deleted record fails with
// ErrDeleted; an unknown revision with ErrNotFound.
func (s *Store) Revert(ctx context.Context, id uuid.UUID, n int64, opts ...WriteOption) (*Record, error) {
	wc := writeOpts(opts)
	return s.commit(ctx, OpRevert, id, wc.expectedPtr(), func(tx *sqlx.Tx, prev *Record) (*Record, error) {
		if prev.Deleted {
			return nil, fmt.Errorf("%w: record %s", ErrDeleted, id)
		}
		old, err := s.revision(ctx, tx, id, n)
		if err != nil {
			return nil, err
		}
		if err := s.c.validate(old.JSON); err != nil {
			return nil, fmt.Errorf("records: revision %d no longer validates: %w", n, err)
		}
		return &Record{JSON: old.JSON}, nil
	})
}
