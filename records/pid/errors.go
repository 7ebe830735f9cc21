package pid

import (
	"errors"
	"fmt"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrPIDNotFound: no PID with that type and value.
	ErrPIDNotFound = errors.New("pid: not found")
	// ErrPIDExists: a PID with that type and value already exists.
	ErrPIDExists = errors.New("pid: already exists")
	// ErrInvalid: a malformed type, value, status or object.
	ErrInvalid = errors.New("pid: invalid")
	// ErrInvalidTransition: the PID's status does not allow the action; the
	// error is a *TransitionError.
	ErrInvalidTransition = errors.New("pid: invalid status transition")
	// ErrAlreadyAssigned: the PID is bound to another object.
	ErrAlreadyAssigned = errors.New("pid: already assigned to another object")
	// ErrPIDDeleted: the PID (or the record it points to) is deleted: "gone".
	ErrPIDDeleted = errors.New("pid: deleted")
	// ErrPIDRedirected: the PID redirects to another; the error is a
	// *RedirectedError carrying the target.
	ErrPIDRedirected = errors.New("pid: redirected")
	// ErrPIDUnregistered: the PID is new or reserved, not registered yet.
	ErrPIDUnregistered = errors.New("pid: not registered")
	// ErrObjectMissing: the PID is registered but bound to no object, to an
	// object of another type, or to a record that does not exist.
	ErrObjectMissing = errors.New("pid: object missing")
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

// Is makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// RedirectedError is what resolving a redirected PID returns.
type RedirectedError struct {
	// PID is the redirected PID; Target the PID it points to.
	PID, Target *PID
}

// Error names both PIDs.
func (e *RedirectedError) Error() string {
	return fmt.Sprintf("pid: %s:%s is redirected to %s:%s", e.PID.Type, e.PID.Value, e.Target.Type, e.Target.Value)
}

// Is makes errors.Is(err, ErrPIDRedirected) true.
func (e *RedirectedError) Is(target error) bool { return target == ErrPIDRedirected }
