package search

import (
	"fmt"

	"github.com/repokit/repokit"
)

// Sentinel errors, testable with errors.Is. Each also matches the repokit
// error kind of the same name (ErrBadQuery: repokit.ErrInvalid).
var (
	// ErrNotFound: the index (or alias) does not exist.
	ErrNotFound = repokit.NewError("search: not found", repokit.ErrNotFound)
	// ErrExists: an index or alias of that name already exists.
	ErrExists = repokit.NewError("search: already exists", repokit.ErrExists)
	// ErrInvalid: a definition, document or request is malformed (including a
	// non-additive mapping change).
	ErrInvalid = repokit.NewError("search: invalid", repokit.ErrInvalid)
	// ErrBadQuery: a user query string or request parameter is malformed or
	// names a field outside the allow-list. Errors wrapping it are *QueryError
	// values carrying the position.
	ErrBadQuery = repokit.NewError("search: bad query", repokit.ErrInvalid)
	// ErrUnsupported: the driver does not implement the feature.
	ErrUnsupported = repokit.NewError("search: unsupported", repokit.ErrUnsupported)
	// ErrClosed: the engine was closed.
	ErrClosed = repokit.NewError("search: closed", repokit.ErrClosed)
)

// QueryError describes a malformed query string or parameter. It matches
// ErrBadQuery with errors.Is.
type QueryError struct {
	Param string // URL parameter the error is about ("q", "sort", a facet name...)
	Pos   int    // byte offset in the parameter value, -1 when not positional
	Msg   string
}

// Error implements error.
func (e *QueryError) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("search: bad query: %s: at position %d: %s", e.Param, e.Pos, e.Msg)
	}
	return fmt.Sprintf("search: bad query: %s: %s", e.Param, e.Msg)
}

// Unwrap returns ErrBadQuery, so errors.Is matches it (and
// repokit.ErrInvalid).
func (e *QueryError) Unwrap() error { return ErrBadQuery }

func badParam(param, format string, args ...any) error {
	return &QueryError{Param: param, Pos: -1, Msg: fmt.Sprintf(format, args...)}
}
