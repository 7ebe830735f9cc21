package tasks

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: no task (or no result) with that id; results that passed
	// their retention period are not found either.
	ErrNotFound = errors.New("tasks: not found")
	// ErrInvalid: bad input to a call (empty task type, negative option...).
	ErrInvalid = errors.New("tasks: invalid input")
	// ErrConflict: the operation does not apply to the task's current state
	// (for example retrying a running task).
	ErrConflict = errors.New("tasks: conflict")
	// ErrUnknownType: no handler is registered for the task type. A fetched
	// task of an unknown type is dead-lettered with this reason.
	ErrUnknownType = errors.New("tasks: unknown task type")
	// ErrBadArgs: args cannot be encoded at enqueue time or decoded at run
	// time. A task whose args do not decode is dead-lettered at once.
	ErrBadArgs = errors.New("tasks: bad task args")
	// ErrBadSchedule: a cron spec or interval that cannot be parsed.
	ErrBadSchedule = errors.New("tasks: bad schedule")
	// ErrNotDone: the task has no result yet (it has not completed).
	ErrNotDone = errors.New("tasks: task not done")
	// ErrFailed: Wait or Result on a task that ended dead or cancelled.
	ErrFailed = errors.New("tasks: task failed")
	// ErrClosed: the client was stopped, or was started twice.
	ErrClosed = errors.New("tasks: client closed")
)
