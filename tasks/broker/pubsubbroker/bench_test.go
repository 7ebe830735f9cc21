package pubsubbroker_test

import (
	"net/url"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/taskstest"
)

// BenchmarkThroughputRabbit works 20,000 no-op tasks per op with 100
// workers, delivered through RabbitMQ, with PostgreSQL as the store.
func BenchmarkThroughputRabbit(b *testing.B) {
	base := sqldbtest.ServiceURL(b, "REPOKIT_TEST_RABBIT_URL")
	vhost := testVhost(b, base)
	u, _ := url.Parse(base)
	u.Scheme, u.Path = "rabbit", "/"+vhost
	db := sqldbtest.Fresh(b, sqldb.Postgres)
	db.SetMaxOpenConns(20)
	taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100, tasks.WithBrokerURL(u.String()))
}
