package records

import (
	"errors"
	"strings"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrNotFound: no record (or revision) with that id.
	ErrNotFound = errors.New("records: not found")
	// ErrDeleted: the record is soft-deleted. It also matches ErrNotFound,
	// so callers that do not care about the difference need one check.
	ErrDeleted error = &deletedError{}
	// ErrConflict: the expected revision is stale, the id already exists, or
	// the record is not in a state the operation needs.
	ErrConflict = errors.New("records: conflict")
	// ErrInvalid: the document is not valid JSON, not a JSON object, or
	// failed validation.
	ErrInvalid = errors.New("records: invalid document")
	// ErrSchema: the document failed validation against its JSON Schema. It
	// matches ErrInvalid; the error is a *ValidationError listing each path.
	ErrSchema error = &wrapErr{msg: "records: document does not match its schema", inner: ErrInvalid}
	// ErrUnknownSchema: the document's "$schema" names no schema registered
	// with the store. It matches ErrInvalid.
	ErrUnknownSchema error = &wrapErr{msg: "records: unknown $schema", inner: ErrInvalid}
	// ErrTooLarge: the document is larger than the store's limit
	// (WithMaxSize).
	ErrTooLarge = errors.New("records: document too large")
)

type deletedError struct{}

func (*deletedError) Error() string        { return "records: record is deleted" }
func (*deletedError) Is(target error) bool { return target == ErrNotFound }

type wrapErr struct {
	msg   string
	inner error
}

func (e *wrapErr) Error() string { return e.msg }
func (e *wrapErr) Unwrap() error { return e.inner }

// FieldError is one validation failure: where in the document (a JSON
// pointer such as "/creators/0/name"; "" is the whole document) and why.
type FieldError struct {
	Path    string
	Message string
}

// ValidationError lists every place a document failed its JSON Schema. It
// matches ErrSchema and ErrInvalid.
type ValidationError struct {
	// Schema is the URI of the schema the document was checked against.
	Schema string
	// Errors lists each failing location, in document order of discovery.
	Errors []FieldError
}

// Error lists the failures, one per path.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("records: document does not match schema ")
	b.WriteString(e.Schema)
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		p := fe.Path
		if p == "" {
			p = "/"
		}
		b.WriteString(p)
		b.WriteString(": ")
		b.WriteString(fe.Message)
	}
	return b.String()
}

// Unwrap returns ErrSchema, so errors.Is matches ErrSchema and ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrSchema }
