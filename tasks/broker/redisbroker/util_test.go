package redisbroker_test

import (
	"io"
	"log/slog"
	"os"

	"github.com/jmoiron/sqlx"
)

type sqlxDB = *sqlx.DB

// taskstestLogger logs when REPOKIT_TASKS_LOG is set, like the suite.
func taskstestLogger() *slog.Logger {
	if os.Getenv("REPOKIT_TASKS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
