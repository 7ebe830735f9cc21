package records

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Purge removes record id and its whole history for good (deleted or not).
// Purge hooks see the record as it was in both ev.Record and ev.Previous.
func (s *Store) Purge(ctx context.Context, id uuid.UUID, opts ...WriteOption) error {
	wc := writeOpts(opts)
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		prev, err := s.c.getRow(ctx, tx, s.c.st.getForUpdate, id.String())
		if err != nil {
			return err
		}
		if wc.hasExpected && prev.Revision != wc.expected {
			return fmt.Errorf("%w: record %s is at revision %d, not %d", ErrConflict, id, prev.Revision, wc.expected)
		}
		ev := &Event{Op: OpPurge, Record: prev.clone(), Previous: prev}
		if err := s.c.beforeWrite(ctx, tx, ev); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.c.q.purgeRevisions, id.String()); err != nil {
			return fmt.Errorf("records: purge %s: %w", id, err)
		}
		n, err := rowsAffected(tx.ExecContext(ctx, s.c.q.purgeRecord, id.String()))
		if err != nil {
			return fmt.Errorf("records: purge %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: record %s", ErrNotFound, id)
		}
		return s.c.runAfter(ctx, tx, ev)
	})
}
