package sqsbroker_test

import (
	"io"
	"log/slog"
	"os"
)

// quietLogger logs when REPOKIT_TASKS_LOG is set, like the suite.
func quietLogger() *slog.Logger {
	if os.Getenv("REPOKIT_TASKS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
