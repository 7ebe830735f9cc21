package tasks_test

import (
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks/taskstest"
)

// TestConformance runs the suite on the SQL store of every dialect.
func TestConformance(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		taskstest.Run(t, taskstest.Harness{Dialect: string(d)})
	})
}

// TestHelperProcess is the child process of the kill and scheduler tests.
func TestHelperProcess(t *testing.T) { taskstest.HelperProcess(t) }
