package tasks

// State is where a task is in its life cycle.
type State string

// Task states. Available, Scheduled and Retryable are pending: a worker may
// claim the task once its run time has come.
const (
	StateAvailable State = "available" // due now, waiting for a worker
	StateScheduled State = "scheduled" // waiting for its run time (Delay/At, snooze)
	StateRunning   State = "running"   // claimed by a worker holding a lease
	StateRetryable State = "retryable" // failed, waiting for its next attempt
	StateCompleted State = "completed" // handler succeeded; result kept until retention
	StateDead      State = "dead"      // attempts exhausted or bad input; error kept; retry by hand
	StateCancelled State = "cancelled" // cancelled by the handler or by hand
)

// States lists every state, in life-cycle order.
var States = []State{StateAvailable, StateScheduled, StateRunning, StateRetryable, StateCompleted, StateDead, StateCancelled}

// Pending reports whether the state waits for a worker.
func (s State) Pending() bool {
	return s == StateAvailable || s == StateScheduled || s == StateRetryable
}

// Final reports whether the task will not run again by itself.
func (s State) Final() bool {
	return s == StateCompleted || s == StateDead || s == StateCancelled
}

const pendingStatesSQL = "('available', 'scheduled', 'retryable')"
