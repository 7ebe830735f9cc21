package jetstreambroker_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/taskstest"
)

// BenchmarkThroughputJetStream works 20,000 no-op tasks per op with 100
// workers, delivered through NATS JetStream, with PostgreSQL as the store.
func BenchmarkThroughputJetStream(b *testing.B) {
	base := sqldbtest.ServiceURL(b, "REPOKIT_TEST_NATS_URL")
	db := sqldbtest.Fresh(b, sqldb.Postgres)
	db.SetMaxOpenConns(20)
	stream := "rkbench" + time.Now().Format("150405")
	b.Cleanup(func() {
		if nc, err := nats.Connect(base); err == nil {
			js, _ := jetstream.New(nc)
			_ = js.DeleteStream(context.Background(), stream)
			nc.Close()
		}
	})
	taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100, tasks.WithBrokerURL(base+"?stream="+stream))
}
