package jetstreambroker_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
)

// BenchmarkThroughputJetStream works 20,000 no-op tasks per op with 100
// workers, delivered through NATS JetStream, with PostgreSQL as the store.
func BenchmarkThroughputJetStream(b *testing.B) {
	base := sqldbtest.ServiceURL(b, "REPOKIT_TEST_NATS_URL")
	db := sqldbtest.Fresh(b, sqldb.Postgres)
	db.SetMaxOpenConns(20)
	ctx := context.Background()
	if err := tasks.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	stream := "rkbench" + time.Now().Format("150405")
	b.Cleanup(func() {
		if nc, err := nats.Connect(base); err == nil {
			js, _ := jetstream.New(nc)
			_ = js.DeleteStream(context.Background(), stream)
			nc.Close()
		}
	})
	const n = 20000
	items := make([]tasks.Item, n)
	for i := range items {
		items[i] = tasks.Item{Type: "noop", Args: struct{}{}}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var worked atomic.Int64
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := db.Exec("TRUNCATE tasks_jobs"); err != nil {
			b.Fatal(err)
		}
		c, err := tasks.NewClient(ctx, db, tasks.WithQueue("default", 100), tasks.WithLogger(quiet), tasks.WithBrokerURL(base+"?stream="+stream))
		if err != nil {
			b.Fatal(err)
		}
		tasks.Register(c, "noop", func(ctx context.Context, t *tasks.Task[struct{}]) error {
			worked.Add(1)
			return nil
		})
		if _, err := c.EnqueueMany(ctx, nil, items); err != nil {
			b.Fatal(err)
		}
		worked.Store(0)
		b.StartTimer()
		t0 := time.Now()
		if err := c.Start(ctx); err != nil {
			b.Fatal(err)
		}
		for worked.Load() < n {
			time.Sleep(time.Millisecond)
		}
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "jobs/s")
}
