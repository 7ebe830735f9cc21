package records

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanRecord reads the recordColumns without reflection.
func scanRecord(sc scanner) (*Record, error) {
	var (
		r   Record
		doc []byte
	)
	if err := sc.Scan(&r.ID, &doc, &r.Revision, &r.Created, &r.Updated, &r.Deleted); err != nil {
		return nil, err
	}
	r.JSON = doc
	r.Created = r.Created.UTC()
	r.Updated = r.Updated.UTC()
	return &r, nil
}

func scanRevision(sc scanner) (*Revision, error) {
	var (
		r   Revision
		doc []byte
		op  string
	)
	if err := sc.Scan(&r.RecordID, &r.Revision, &doc, &r.Deleted, &op, &r.Committed); err != nil {
		return nil, err
	}
	r.JSON = doc
	r.Op = Op(op)
	r.Committed = r.Committed.UTC()
	return &r, nil
}

// getRow reads one record by primary key with st (get or getForUpdate).
func (c *core) getRow(ctx context.Context, tx *sqlx.Tx, st *stmt, id string) (*Record, error) {
	r, err := scanRecord(c.queryRow(ctx, tx, st, id))
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("%w: record %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("records: get %s: %w", id, err)
	}
	return r, nil
}
