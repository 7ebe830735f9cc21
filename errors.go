// Package repokit holds the error kinds every RepoKit package shares.
//
// Each package keeps its own sentinel errors, with its own message
// (records.ErrNotFound says "records: not found", files.ErrNotFound "files:
// not found"), and each sentinel is of one kind defined here: errors.Is
// matches a package's sentinel, or any error wrapping it, against its kind.
//
//	errors.Is(err, records.ErrNotFound) // a record was not found
//	errors.Is(err, repokit.ErrNotFound) // something was not found, in any package
//
// The kinds and what they mean, with the HTTP status package httperr gives
// them:
//
//	ErrNotFound     404  no such thing (record, PID, bucket, object, task, index...)
//	ErrDeleted      410  it existed and was deleted; also matches ErrNotFound
//	ErrRedirected   301  it moved (a redirected PID)
//	ErrExists       409  something of that name already exists
//	ErrConflict     409  the current state does not allow it (stale revision, lock held...)
//	ErrForbidden    403  refused by policy (401 for an anonymous caller, see package access)
//	ErrInvalid      400  bad input
//	ErrTooLarge     413  over a size limit
//	ErrUnsupported  501  the driver or configuration cannot do it
//	ErrUnavailable  503  a backend failed or refused for now; retrying later may succeed
//	ErrClosed       503  the component was closed
//
// A host that maps errors to responses or to retries tests the kind and
// needs one mapping for every package; httperr.Status is that mapping for
// HTTP. A host's own sentinels get a kind with NewError.
//
// The package has no dependencies, so every package of the module (and
// package access, which has none either) can use it.
package repokit

import "errors"

// kind is one of the error kinds below. A kind may itself be of a broader
// kind (ErrDeleted is an ErrNotFound).
type kind struct {
	msg    string
	parent error
}

func (k *kind) Error() string { return k.msg }
func (k *kind) Unwrap() error { return k.parent }

// The error kinds. Their messages are short and safe to show to end users.
var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound error = &kind{msg: "not found"}
	// ErrDeleted: the thing asked for existed and was deleted ("gone"). It
	// matches ErrNotFound too.
	ErrDeleted error = &kind{msg: "deleted", parent: ErrNotFound}
	// ErrRedirected: the thing asked for moved to another name (the error
	// says where, e.g. a *pid.RedirectedError).
	ErrRedirected error = &kind{msg: "moved"}
	// ErrExists: something of that name already exists.
	ErrExists error = &kind{msg: "already exists"}
	// ErrConflict: the operation conflicts with the current state (a stale
	// revision, a lock held by another owner, a status that does not allow
	// it).
	ErrConflict error = &kind{msg: "conflict"}
	// ErrForbidden: a policy refused the operation (an access policy, a
	// locked bucket).
	ErrForbidden error = &kind{msg: "forbidden"}
	// ErrInvalid: bad input (a malformed document, key, query, argument or
	// URL).
	ErrInvalid error = &kind{msg: "invalid"}
	// ErrTooLarge: the input is over a size limit (document, file, quota,
	// cache value).
	ErrTooLarge error = &kind{msg: "too large"}
	// ErrUnsupported: the driver or configuration cannot do this.
	ErrUnsupported error = &kind{msg: "unsupported"}
	// ErrUnavailable: a backend (server, storage, cache) failed or refused
	// for now; retrying later may succeed.
	ErrUnavailable error = &kind{msg: "unavailable"}
	// ErrClosed: the component was closed (or stopped) and cannot be used.
	ErrClosed error = &kind{msg: "closed"}
)

// Kinds lists every error kind, the most specific first (ErrDeleted before
// ErrNotFound), which is the order to test them in.
func Kinds() []error {
	return []error{ErrForbidden, ErrDeleted, ErrRedirected, ErrNotFound, ErrExists, ErrConflict,
		ErrTooLarge, ErrInvalid, ErrUnsupported, ErrUnavailable, ErrClosed}
}

// KindOf returns the kind of err (the first of Kinds that errors.Is
// matches), or nil if err has none.
func KindOf(err error) error {
	if err == nil {
		return nil
	}
	for _, k := range Kinds() {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// NewError returns a sentinel error with message msg that matches
// (errors.Is, errors.As) each of kinds and everything they match. kinds are
// usually kinds of this package, and may be other sentinels: a more
// specific sentinel names the broader one it refines, and so inherits its
// kind.
//
//	var ErrNotFound = repokit.NewError("records: not found", repokit.ErrNotFound)
//	var ErrDeleted = repokit.NewError("records: record is deleted", ErrNotFound, repokit.ErrDeleted)
func NewError(msg string, kinds ...error) error {
	return &sentinel{msg: msg, kinds: kinds}
}

// IsSentinel reports whether err itself, not anything it wraps, is one of
// the error kinds or a sentinel made by NewError. Telemetry uses it to name
// an error by its sentinel's text (a low-cardinality label) rather than by
// the message of the error that wraps it.
func IsSentinel(err error) bool {
	switch err.(type) {
	case *kind, *sentinel:
		return true
	}
	return false
}

type sentinel struct {
	msg   string
	kinds []error
}

func (e *sentinel) Error() string   { return e.msg }
func (e *sentinel) Unwrap() []error { return e.kinds }
