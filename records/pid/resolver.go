package pid

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
)

// Resolver turns a PID into the record it identifies, as Invenio's
// resolver does, with one typed error per failure:
//
//	no such PID                         → ErrNotFound       (HTTP 404)
//	PID deleted, or its record deleted  → ErrDeleted        (410 Gone)
//	PID redirected                      → *RedirectedError  (301 to Target)
//	PID new or reserved                 → ErrUnregistered   (404)
//	no object, or the record is missing → ErrObjectMissing  (404)
//
// Each matches its repokit error kind (repokit.ErrNotFound,
// repokit.ErrDeleted, repokit.ErrRedirected), which httperr maps to these
// statuses.
type Resolver struct {
	pids       *Store
	records    *records.Store
	objectType string
}

// NewResolver returns a resolver of PIDs bound to records (ObjectRecord).
func NewResolver(pids *Store, recs *records.Store) *Resolver {
	return &Resolver{pids: pids, records: recs, objectType: ObjectRecord}
}

// WithTx returns a resolver that reads in tx (the PID and record stores'
// WithTx views).
func (r *Resolver) WithTx(tx *sqlx.Tx) *Resolver {
	return &Resolver{pids: r.pids.WithTx(tx), records: r.records.WithTx(tx), objectType: r.objectType}
}

// Resolve returns the PID and its record.
func (r *Resolver) Resolve(ctx context.Context, pidType, value string) (*PID, *records.Record, error) {
	p, err := r.pids.Get(ctx, pidType, value)
	if err != nil {
		return nil, nil, err
	}
	switch p.Status {
	case StatusDeleted:
		return p, nil, fmt.Errorf("%w: %s", ErrDeleted, p)
	case StatusRedirected:
		target, err := r.pids.target(ctx, r.pids.querier(), p)
		if err != nil {
			return p, nil, err
		}
		return p, nil, &RedirectedError{PID: p, Target: target}
	case StatusNew, StatusReserved:
		return p, nil, fmt.Errorf("%w: %s is %s", ErrUnregistered, p, p.Status.Name())
	}
	if !p.Assigned() || p.ObjectType != r.objectType {
		return p, nil, fmt.Errorf("%w: %s is bound to no %s", ErrObjectMissing, p, r.objectType)
	}
	rec, err := r.records.Get(ctx, p.ObjectID)
	switch {
	case errors.Is(err, records.ErrDeleted):
		// Matches both ErrDeleted and records.ErrDeleted.
		return p, nil, fmt.Errorf("%w: %s: %w", ErrDeleted, p, err)
	case errors.Is(err, records.ErrNotFound):
		return p, nil, fmt.Errorf("%w: %s: %w", ErrObjectMissing, p, err)
	case err != nil:
		return p, nil, err
	}
	return p, rec, nil
}
