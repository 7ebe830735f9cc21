package sqsbroker_test

import (
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/taskstest"
)

// BenchmarkThroughputSQS works 20,000 no-op tasks per op with 100 workers
// and PostgreSQL as the store: sql = the SQL store's own polling, sqs =
// delivered through the SQS server of REPOKIT_TEST_SQS_URL (goaws in CI, an
// in-memory emulator whose every call scans its queue under one lock).
func BenchmarkThroughputSQS(b *testing.B) {
	base := sqldbtest.ServiceURL(b, sqsEnv)
	b.Run("sql", func(b *testing.B) {
		db := sqldbtest.Fresh(b, sqldb.Postgres)
		db.SetMaxOpenConns(20)
		taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100)
	})
	b.Run("sqs", func(b *testing.B) {
		db := sqldbtest.Fresh(b, sqldb.Postgres)
		db.SetMaxOpenConns(20)
		prefix := randName()
		b.Cleanup(func() { dropQueues(b, base, prefix) })
		taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100, tasks.WithBrokerURL(withParams(base, "prefix="+prefix)))
	})
}
