package tasks

import "github.com/repokit/repokit"

// Sentinel errors; test with errors.Is. Each also matches a repokit error
// kind: the one of the same name, repokit.ErrInvalid for ErrUnknownType,
// ErrBadArgs and ErrBadSchedule, repokit.ErrConflict for ErrNotDone;
// ErrFailed has none (the task's own failure is a server error).
var (
	// ErrNotFound: no task (or no result) with that id; results that passed
	// their retention period are not found either.
	ErrNotFound = repokit.NewError("tasks: not found", repokit.ErrNotFound)
	// ErrInvalid: bad input to a call (empty task type, negative option...).
	ErrInvalid = repokit.NewError("tasks: invalid input", repokit.ErrInvalid)
	// ErrConflict: the operation does not apply to the task's current state
	// (for example retrying a running task).
	ErrConflict = repokit.NewError("tasks: conflict", repokit.ErrConflict)
	// ErrUnknownType: no handler is registered for the task type. A fetched
	// task of an unknown type is dead-lettered with this reason.
	ErrUnknownType = repokit.NewError("tasks: unknown task type", repokit.ErrInvalid)
	// ErrBadArgs: args cannot be encoded at enqueue time or decoded at run
	// time. A task whose args do not decode is dead-lettered at once.
	ErrBadArgs = repokit.NewError("tasks: bad task args", repokit.ErrInvalid)
	// ErrBadSchedule: a cron spec or interval that cannot be parsed.
	ErrBadSchedule = repokit.NewError("tasks: bad schedule", repokit.ErrInvalid)
	// ErrNotDone: the task has no result yet (it has not completed).
	ErrNotDone = repokit.NewError("tasks: task not done", repokit.ErrConflict)
	// ErrFailed: Wait or Result on a task that ended dead or cancelled.
	ErrFailed = repokit.NewError("tasks: task failed")
	// ErrClosed: the client was stopped, or was started twice.
	ErrClosed = repokit.NewError("tasks: client closed", repokit.ErrClosed)
)
