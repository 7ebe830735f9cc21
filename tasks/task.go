package tasks

import (
	"context"
	"encoding/json"
	"time"
)

// Task is one execution of a task as a typed handler sees it.
type Task[A any] struct {
	ID    int64
	Type  string
	Queue string
	Args  A
	// Attempt is the handler's attempt, 1 on the first run. A run whose
	// worker crashed (lease expired) does not count: it is run again with
	// the same Attempt and Crashes one higher.
	Attempt     int
	MaxAttempts int
	Crashes     int // runs of this task lost to a crashed worker so far
	// Tick is the schedule tick this task was enqueued for (zero for tasks
	// not enqueued by a schedule): the same for every retry, so a handler
	// can be idempotent per tick.
	Tick time.Time
	// Job is the untyped view (encoded args, priority, timeout...).
	Job *Job
}

// Job is a task with its args still encoded, as middleware and raw handlers
// see it.
type Job struct {
	ID          int64
	Type        string
	Queue       string
	Args        json.RawMessage
	Priority    int
	Attempt     int // handler attempt (crashed runs excluded), 1 on the first run
	MaxAttempts int
	Crashes     int // runs lost to a crashed worker (lease expired)
	MaxCrashes  int
	Timeout     time.Duration
	CreatedAt   time.Time
	Tick        time.Time // schedule tick the task was fired for; zero if none

	// run counts every claim of the task (attempts and crashed runs): the
	// fencing token under which this run's outcome is written.
	run int
}

// Handler runs one job. Register and RegisterBatch build handlers from typed
// functions; middleware wraps them.
type Handler func(ctx context.Context, j *Job) error

// Middleware wraps the execution of every single-task handler (metrics,
// tracing, logging). It sees the outcome error before it is recorded.
type Middleware func(next Handler) Handler

// Info is the stored state of a task, as returned by Get and List.
type Info struct {
	ID       int64           `json:"id"`
	Type     string          `json:"type"`
	Queue    string          `json:"queue"`
	State    State           `json:"state"`
	Priority int             `json:"priority"`
	Args     json.RawMessage `json:"args"`
	// Attempt is the handler attempt (1 while the first run goes on); runs
	// lost to a crashed worker are counted in Crashes instead.
	Attempt     int           `json:"attempt"`
	MaxAttempts int           `json:"max_attempts"`
	Crashes     int           `json:"crashes,omitempty"`
	MaxCrashes  int           `json:"max_crashes"`
	Timeout     time.Duration `json:"timeout"`
	UniqueKey   string        `json:"unique_key,omitempty"`
	RunAt       time.Time     `json:"run_at"`
	CreatedAt   time.Time     `json:"created_at"`
	AttemptedAt *time.Time    `json:"attempted_at,omitempty"`
	FinishedAt  *time.Time    `json:"finished_at,omitempty"`
	LeaseUntil  *time.Time    `json:"lease_until,omitempty"`
	// Tick is the schedule tick the task was fired for (zero if none).
	Tick time.Time `json:"tick,omitzero"`
	// LastError is the error the task is in: set while it waits for a
	// retry after a failure or crash and once it is dead or cancelled;
	// empty once it completed. Every failure stays in Errors.
	LastError string          `json:"last_error,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Progress  json.RawMessage `json:"progress,omitempty"`
	// Errors is the error history, oldest first (filled by Get, not List).
	Errors []AttemptError `json:"errors,omitempty"`
}

// AttemptError is the error of one failed run: a handler failure, or a
// crash (the worker stopped heartbeating and the lease expired) with Crash set.
type AttemptError struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Error   string    `json:"error"`
	Crash   bool      `json:"crash,omitempty"`
}
