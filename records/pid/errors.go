package pid

import (
	"fmt"

	"github.com/repokit/repokit"
)

// Sentinel errors; test them with errors.Is. Each also matches the
// repokit error kind named in its comment.
var (
	// ErrNotFound: no PID with that type and value. Kind
	// repokit.ErrNotFound.
	ErrNotFound = repokit.NewError("pid: not found", repokit.ErrNotFound)
	// ErrExists: a PID with that type and value already exists. Kind
	// repokit.ErrExists.
	ErrExists = repokit.NewError("pid: already exists", repokit.ErrExists)
	// ErrInvalid: a malformed type, value, status or object. Kind
	// repokit.ErrInvalid.
	ErrInvalid = repokit.NewError("pid: invalid", repokit.ErrInvalid)
	// ErrInvalidTransition: the PID's status does not allow the action; the
	// error is a *TransitionError. Kind repokit.ErrConflict.
	ErrInvalidTransition = repokit.NewError("pid: invalid status transition", repokit.ErrConflict)
	// ErrAlreadyAssigned: the PID is bound to another object. Kind
	// repokit.ErrConflict.
	ErrAlreadyAssigned = repokit.NewError("pid: already assigned to another object", repokit.ErrConflict)
	// ErrDeleted: the PID (or the record it points to) is deleted: "gone".
	// Kind repokit.ErrDeleted (which matches repokit.ErrNotFound, but
	// ErrDeleted does not match ErrNotFound of this package).
	ErrDeleted = repokit.NewError("pid: deleted", repokit.ErrDeleted)
	// ErrRedirected: the PID redirects to another; the error is a
	// *RedirectedError carrying the target. Kind repokit.ErrRedirected.
	ErrRedirected = repokit.NewError("pid: redirected", repokit.ErrRedirected)
	// ErrUnregistered: the PID is new or reserved, not registered yet. Kind
	// repokit.ErrNotFound.
	ErrUnregistered = repokit.NewError("pid: not registered", repokit.ErrNotFound)
	// ErrObjectMissing: the PID is registered but bound to no object, to an
	// object of another type, or to a record that does not exist. Kind
	// repokit.ErrNotFound.
	ErrObjectMissing = repokit.NewError("pid: object missing", repokit.ErrNotFound)
)

// TransitionError reports an action the PID's status does not allow.
type TransitionError struct {
	Type, Value string
	// Action is "reserve", "register", "delete", "redirect" or "assign".
	Action string
	// From is the PID's status; To the status the action would have set.
	From, To Status
}

// Error says which action the status refused.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("pid: cannot %s %s:%s: status %s (%s) cannot become %s (%s)",
		e.Action, e.Type, e.Value, e.From, e.From.Name(), e.To, e.To.Name())
}

// Unwrap returns ErrInvalidTransition, so errors.Is matches it (and
// repokit.ErrConflict).
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// RedirectedError is what resolving a redirected PID returns.
type RedirectedError struct {
	// PID is the redirected PID; Target the PID it points to.
	PID, Target *PID
}

// Error names both PIDs.
func (e *RedirectedError) Error() string {
	return fmt.Sprintf("pid: %s:%s is redirected to %s:%s", e.PID.Type, e.PID.Value, e.Target.Type, e.Target.Value)
}

// Unwrap returns ErrRedirected, so errors.Is matches it (and
// repokit.ErrRedirected).
func (e *RedirectedError) Unwrap() error { return ErrRedirected }
