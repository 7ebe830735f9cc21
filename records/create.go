package records

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// Create stores doc as a new record at revision 0 and returns it. The id is
// a new UUIDv7 unless WithID gives one (a taken id fails with ErrConflict).
// doc is validated before any SQL runs (see Validate). It is one INSERT of
// one row: revision 0 is the record's current state, and moves into the
// history table only when a later commit supersedes it.
//
// The returned record's JSON shares memory with doc.
func (s *Store) Create(ctx context.Context, doc json.RawMessage, opts ...CreateOption) (*Record, error) {
	var cc createConfig
	for _, o := range opts {
		o(&cc)
	}
	if err := s.c.validate(doc); err != nil {
		return nil, err
	}
	id := cc.id
	if id == uuid.Nil {
		var err error
		if id, err = uuid.NewV7(); err != nil {
			return nil, fmt.Errorf("records: new id: %w", err)
		}
	}
	if s.tx == nil && !s.c.hooks.has(OpCreate) {
		// A create writes one row (revision 0 lives in records_metadata
		// until the first commit copies it into the history): one statement,
		// a transaction of its own, so no BEGIN/COMMIT round trips.
		now := s.c.timestamp()
		rec := &Record{ID: id, JSON: doc, Created: now, Updated: now}
		if err := s.c.insert(ctx, nil, rec); err != nil {
			return nil, err
		}
		return rec, nil
	}
	var out *Record
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.c.timestamp()
		rec := &Record{ID: id, JSON: doc, Created: now, Updated: now}
		ev := &Event{Op: OpCreate, Record: rec}
		if err := s.c.beforeWrite(ctx, tx, ev); err != nil {
			return err
		}
		rec = ev.Record // a hook may have replaced it
		if err := s.c.insert(ctx, tx, rec); err != nil {
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

// beforeWrite runs the Before hooks and validates the document again if a
// hook may have changed it. Hooks may amend only the JSON: the bookkeeping
// fields (id, revision, times, deleted flag) are put back afterwards.
func (c *core) beforeWrite(ctx context.Context, tx *sqlx.Tx, ev *Event) error {
	keep := *ev.Record
	ran, err := c.runBefore(ctx, tx, ev)
	if err != nil {
		return err
	}
	if ev.Record == nil {
		return fmt.Errorf("records: a %s hook set the event's record to nil", ev.Op)
	}
	if !ran {
		return nil
	}
	doc := ev.Record.JSON
	*ev.Record = keep
	ev.Record.JSON = doc
	if ev.Op != OpPurge {
		if err := c.validate(ev.Record.JSON); err != nil {
			return fmt.Errorf("records: document amended by a hook: %w", err)
		}
	}
	return nil
}

// insert writes a new record at revision 0 (tx may be nil: it is one
// statement).
func (c *core) insert(ctx context.Context, tx *sqlx.Tx, r *Record) error {
	id := r.ID.String()
	if _, err := c.exec(ctx, tx, c.st.insert, id, string(r.JSON), r.Created, r.Updated); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("%w: record %s already exists", ErrConflict, id)
		}
		return fmt.Errorf("records: create %s: %w", id, err)
	}
	return nil
}
