package pid

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Status is a PID's state, stored as one character as Invenio does.
type Status string

// The statuses.
const (
	StatusNew        Status = "N"
	StatusReserved   Status = "K"
	StatusRegistered Status = "R"
	StatusRedirected Status = "M"
	StatusDeleted    Status = "D"
)

// Name is the status' readable name ("new", "reserved"...).
func (s Status) Name() string {
	switch s {
	case StatusNew:
		return "new"
	case StatusReserved:
		return "reserved"
	case StatusRegistered:
		return "registered"
	case StatusRedirected:
		return "redirected"
	case StatusDeleted:
		return "deleted"
	}
	return "unknown"
}

func (s Status) valid() bool { return s.Name() != "unknown" }

// ObjectRecord is the object type of records (as Invenio's "rec").
const ObjectRecord = "rec"

// Limits on a PID's type and value, as in Invenio's pidstore_pid table.
const (
	MaxTypeLen  = 6
	MaxValueLen = 255
)

// PID is one persistent identifier.
type PID struct {
	// ID is the row id (for redirects); Type and Value identify the PID.
	ID          int64
	Type, Value string
	Status      Status
	// ObjectType and ObjectID name the bound object ("rec" and a record's
	// id); empty and uuid.Nil when unassigned.
	ObjectType string
	ObjectID   uuid.UUID
	// Created and Updated are UTC.
	Created, Updated time.Time
}

// Assigned reports whether the PID is bound to an object.
func (p *PID) Assigned() bool { return p.ObjectType != "" && p.ObjectID != uuid.Nil }

// String is "type:value".
func (p *PID) String() string { return p.Type + ":" + p.Value }

func checkKey(pidType, value string) error {
	if pidType == "" || len(pidType) > MaxTypeLen {
		return fmt.Errorf("%w: type %q must be 1 to %d bytes", ErrInvalid, pidType, MaxTypeLen)
	}
	if value == "" || utf8.RuneCountInString(value) > MaxValueLen || !utf8.ValidString(value) {
		return fmt.Errorf("%w: value %q must be 1 to %d characters of UTF-8", ErrInvalid, value, MaxValueLen)
	}
	return nil
}
