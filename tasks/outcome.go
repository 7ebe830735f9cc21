package tasks

import (
	"errors"
	"fmt"
	"time"
)

// SnoozeError asks for the task to run again after Delay without using an
// attempt. Return it with Snooze.
type SnoozeError struct{ Delay time.Duration }

// Error implements error.
func (e *SnoozeError) Error() string { return fmt.Sprintf("tasks: snoozed for %v", e.Delay) }

// Snooze, returned by a handler, reschedules the task d from now; the attempt
// does not count towards MaxAttempts.
func Snooze(d time.Duration) error { return &SnoozeError{Delay: d} }

// CancelError, returned by a handler, cancels the task for good (no retry)
// keeping Err as its last error. Return it with Cancel.
type CancelError struct{ Err error }

// Error implements error.
func (e *CancelError) Error() string {
	if e.Err == nil {
		return "tasks: cancelled"
	}
	return "tasks: cancelled: " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *CancelError) Unwrap() error { return e.Err }

// Cancel, returned by a handler, moves the task to the cancelled state with
// err as the reason; it is not retried.
func Cancel(err error) error { return &CancelError{Err: err} }

// PanicError is the failure recorded when a handler panics.
type PanicError struct {
	Value any
	Stack string
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack) }

// classify maps a handler error to the task's next state.
func classify(j *Job, err error) State {
	var se *SnoozeError
	var ce *CancelError
	switch {
	case err == nil:
		return StateCompleted
	case errors.As(err, &se):
		return StateScheduled
	case errors.As(err, &ce):
		return StateCancelled
	case errors.Is(err, ErrUnknownType), errors.Is(err, ErrBadArgs):
		return StateDead
	case j.Attempt >= j.MaxAttempts:
		return StateDead
	}
	return StateRetryable
}
