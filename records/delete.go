package records

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Delete soft-deletes record id: a new revision with the deleted flag set
// and the JSON kept (unlike Invenio, which blanks it), so the record can be
// inspected with IncludeDeleted and restored with Undelete. Deleting a
// deleted record fails with ErrDeleted.
func (s *Store) Delete(ctx context.Context, id uuid.UUID, opts ...WriteOption) (*Record, error) {
	wc := writeOpts(opts)
	return s.commit(ctx, OpDelete, id, wc.expectedPtr(), func(_ *sqlx.Tx, prev *Record) (*Record, error) {
		if prev.Deleted {
			return nil, fmt.Errorf("%w: record %s", ErrDeleted, id)
		}
		return &Record{JSON: prev.JSON, Deleted: true}, nil
	})
}

// Undelete restores a soft-deleted record with the JSON it had: a new
// revision with the deleted flag cleared. A record that is not deleted fails
// with ErrConflict.
func (s *Store) Undelete(ctx context.Context, id uuid.UUID, opts ...WriteOption) (*Record, error) {
	wc := writeOpts(opts)
	return s.commit(ctx, OpUndelete, id, wc.expectedPtr(), func(_ *sqlx.Tx, prev *Record) (*Record, error) {
		if !prev.Deleted {
			return nil, fmt.Errorf("%w: record %s is not deleted", ErrConflict, id)
		}
		return &Record{JSON: prev.JSON}, nil
	})
}
