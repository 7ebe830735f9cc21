package search

import (
	"errors"
	"fmt"
)

// Sentinel errors, testable with errors.Is.
var (
	// ErrNotFound: the index (or alias) does not exist.
	ErrNotFound = errors.New("search: not found")
	// ErrExists: an index or alias of that name already exists.
	ErrExists = errors.New("search: already exists")
	// ErrInvalid: a definition, document or request is malformed (including a
	// non-additive mapping change).
	ErrInvalid = errors.New("search: invalid")
	// ErrBadQuery: a user query string or request parameter is malformed or
	// names a field outside the allow-list. Errors wrapping it are *QueryError
	// values carrying the position.
	ErrBadQuery = errors.New("search: bad query")
	// ErrUnsupported: the driver does not implement the feature.
	ErrUnsupported = errors.New("search: unsupported")
	// ErrClosed: the engine was closed.
	ErrClosed = errors.New("search: closed")
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

// Is reports whether target is ErrBadQuery.
func (e *QueryError) Is(target error) bool { return target == ErrBadQuery }

func badParam(param, format string, args ...any) error {
	return &QueryError{Param: param, Pos: -1, Msg: fmt.Sprintf(format, args...)}
}
