package tasks

import (
	"context"
	"log/slog"
	"time"
)

// chain wraps h in middleware, the first one outermost.
func chain(mw []Middleware, h Handler) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// LogMiddleware logs every execution at Debug (start) and Info/Warn (end)
// with task id, type, queue and attempt.
func LogMiddleware(l *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, j *Job) error {
			attrs := []any{"task_id", j.ID, "task_type", j.Type, "queue", j.Queue, "attempt", j.Attempt}
			l.DebugContext(ctx, "task start", attrs...)
			start := time.Now()
			err := next(ctx, j)
			attrs = append(attrs, "duration", time.Since(start))
			if err != nil {
				l.WarnContext(ctx, "task error", append(attrs, "err", err)...)
			} else {
				l.InfoContext(ctx, "task done", attrs...)
			}
			return err
		}
	}
}
