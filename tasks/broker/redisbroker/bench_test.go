package redisbroker_test

import (
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/taskstest"
)

// BenchmarkThroughputRedis works 20,000 no-op tasks per op with 100
// workers and PostgreSQL as the store: sql = the SQL store's own polling,
// redis = delivered through Redis Streams.
func BenchmarkThroughputRedis(b *testing.B) {
	base := sqldbtest.ServiceURL(b, redisEnv)
	b.Run("sql", func(b *testing.B) {
		db := sqldbtest.Fresh(b, sqldb.Postgres)
		db.SetMaxOpenConns(20)
		taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100)
	})
	b.Run("redis", func(b *testing.B) {
		db := sqldbtest.Fresh(b, sqldb.Postgres)
		db.SetMaxOpenConns(20)
		prefix := randName()
		b.Cleanup(func() { dropPrefix(b, rawClient(b, base), prefix) })
		taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100, tasks.WithBrokerURL(base+"?prefix="+prefix))
	})
}
