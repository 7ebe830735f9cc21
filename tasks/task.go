package tasks

import (
	"context"
	"encoding/json"
	"time"
)

// Task is one execution of a task as a typed handler sees it.
type Task[A any] struct {
	ID          int64
	Type        string
	Queue       string
	Args        A
	Attempt     int // 1 on the first run
	MaxAttempts int
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
	Attempt     int
	MaxAttempts int
	Timeout     time.Duration
	CreatedAt   time.Time
}

// Handler runs one job. Register and RegisterBatch build handlers from typed
// functions; middleware wraps them.
type Handler func(ctx context.Context, j *Job) error

// Middleware wraps the execution of every single-task handler (metrics,
// tracing, logging). It sees the outcome error before it is recorded.
type Middleware func(next Handler) Handler

// Info is the stored state of a task, as returned by Get and List.
type Info struct {
	ID          int64           `json:"id"`
	Type        string          `json:"type"`
	Queue       string          `json:"queue"`
	State       State           `json:"state"`
	Priority    int             `json:"priority"`
	Args        json.RawMessage `json:"args"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	Timeout     time.Duration   `json:"timeout"`
	UniqueKey   string          `json:"unique_key,omitempty"`
	RunAt       time.Time       `json:"run_at"`
	CreatedAt   time.Time       `json:"created_at"`
	AttemptedAt *time.Time      `json:"attempted_at,omitempty"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	LeaseUntil  *time.Time      `json:"lease_until,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	Progress    json.RawMessage `json:"progress,omitempty"`
	// Errors is the error history, oldest first (filled by Get, not List).
	Errors []AttemptError `json:"errors,omitempty"`
}

// AttemptError is the error of one failed attempt.
type AttemptError struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Error   string    `json:"error"`
}
