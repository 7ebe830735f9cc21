package records

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// commit is the one write path of every operation that changes an existing
// record (update, delete, undelete, revert): in a transaction it locks and
// reads the current row, checks the expected revision, builds the next state
// with next, runs the Before hooks (and validates an amended document), then
// moves the current row into the history and writes the new one with
// UPDATE ... WHERE id = ? AND revision = ? (zero rows means a concurrent
// commit won: ErrConflict), and runs the After hooks.
func (s *Store) commit(ctx context.Context, op Op, id uuid.UUID, expected *int64,
	next func(tx *sqlx.Tx, prev *Record) (*Record, error)) (*Record, error) {
	var out *Record
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		prev, err := s.c.getRow(ctx, tx, s.c.st.getForUpdate, id.String())
		if err != nil {
			return err
		}
		if expected != nil && prev.Revision != *expected {
			return fmt.Errorf("%w: record %s is at revision %d, not %d", ErrConflict, id, prev.Revision, *expected)
		}
		rec, err := next(tx, prev)
		if err != nil {
			return err
		}
		rec.ID, rec.Created, rec.Revision = prev.ID, prev.Created, prev.Revision+1
		rec.Updated = s.c.timestamp()
		ev := &Event{Op: op, Record: rec, Previous: prev}
		if err := s.c.beforeWrite(ctx, tx, ev); err != nil {
			return err
		}
		rec = ev.Record
		if err := s.c.write(ctx, tx, op, rec, prev.Revision); err != nil {
			return err
		}
		if err := s.c.runAfter(ctx, tx, ev); err != nil {
			return err
		}
		out = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// write moves the current row (at revision prevRev) into the history and
// stores rec in its place. The copy is made inside the database, so the
// previous document is not sent back. Zero rows copied or updated means the
// revision moved: ErrConflict.
func (c *core) write(ctx context.Context, tx *sqlx.Tx, op Op, rec *Record, prevRev int64) error {
	id, doc := rec.ID.String(), string(rec.JSON)
	if !c.q.updateCopies {
		n, err := rowsAffected(c.exec(ctx, tx, c.st.copyCurrent, id, prevRev))
		if err != nil {
			return fmt.Errorf("records: %s %s: history: %w", op, id, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: record %s changed concurrently (expected revision %d)", ErrConflict, id, prevRev)
		}
	}
	var (
		n   int64
		err error
	)
	if c.q.updateCopies {
		n, err = rowsAffected(c.exec(ctx, tx, c.st.update, doc, rec.Revision, rec.Updated, rec.Deleted, id, prevRev, string(op)))
	} else {
		n, err = rowsAffected(c.exec(ctx, tx, c.st.update, doc, rec.Revision, rec.Updated, rec.Deleted, string(op), id, prevRev))
	}
	if err != nil {
		return fmt.Errorf("records: %s %s: %w", op, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: record %s changed concurrently (expected revision %d)", ErrConflict, id, prevRev)
	}
	return nil
}

func rowsAffected(res interface{ RowsAffected() (int64, error) }, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
