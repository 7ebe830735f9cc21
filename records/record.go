package records

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Record is one JSON document and its bookkeeping.
type Record struct {
	// ID identifies the record.
	ID uuid.UUID
	// JSON is the document, always a JSON object. PostgreSQL and MySQL may
	// return it with keys reordered or whitespace changed.
	JSON json.RawMessage
	// Revision is 0 when created and grows by one with every commit
	// (update, delete, undelete, revert).
	Revision int64
	// Created and Updated are UTC, with microsecond precision.
	Created, Updated time.Time
	// Deleted is true for a soft-deleted record (its JSON is kept).
	Deleted bool
}

// Ref is the light view of a record that Refs streams.
type Ref struct {
	ID       uuid.UUID
	Revision int64
	Deleted  bool
	Updated  time.Time
}

// Revision is one committed state of a record: the current one (read from
// the record itself) or a superseded one (kept in the history table).
type Revision struct {
	// RecordID is the record's id.
	RecordID uuid.UUID
	// Revision is the revision number (0 for the creation).
	Revision int64
	// JSON is the document as committed in this revision.
	JSON json.RawMessage
	// Deleted is the deleted flag as committed in this revision.
	Deleted bool
	// Op is the operation that made this revision.
	Op Op
	// Committed is when the revision was written (the record's Updated time
	// at that revision), UTC.
	Committed time.Time
}

func (r *Record) clone() *Record {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}
