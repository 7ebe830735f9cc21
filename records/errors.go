package records

import (
	"strings"

	"github.com/repokit/repokit"
)

// Sentinel errors; test them with errors.Is. Each also matches the
// repokit error kind named in its comment.
var (
	// ErrNotFound: no record (or revision) with that id. Kind
	// repokit.ErrNotFound.
	ErrNotFound = repokit.NewError("records: not found", repokit.ErrNotFound)
	// ErrDeleted: the record is soft-deleted. It also matches ErrNotFound,
	// so callers that do not care about the difference need one check. Kind
	// repokit.ErrDeleted.
	ErrDeleted = repokit.NewError("records: record is deleted", ErrNotFound, repokit.ErrDeleted)
	// ErrConflict: the expected revision is stale, the id already exists, or
	// the record is not in a state the operation needs. Kind
	// repokit.ErrConflict.
	ErrConflict = repokit.NewError("records: conflict", repokit.ErrConflict)
	// ErrInvalid: the document is not valid JSON, not a JSON object, or
	// failed validation. Kind repokit.ErrInvalid.
	ErrInvalid = repokit.NewError("records: invalid document", repokit.ErrInvalid)
	// ErrSchema: the document failed validation against its JSON Schema. It
	// matches ErrInvalid; the error is a *ValidationError listing each path.
	ErrSchema = repokit.NewError("records: document does not match its schema", ErrInvalid)
	// ErrUnknownSchema: the document's "$schema" names no schema registered
	// with the store. It matches ErrInvalid.
	ErrUnknownSchema = repokit.NewError("records: unknown $schema", ErrInvalid)
	// ErrTooLarge: the document is larger than the store's limit
	// (WithMaxSize). Kind repokit.ErrTooLarge.
	ErrTooLarge = repokit.NewError("records: document too large", repokit.ErrTooLarge)
)

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
