package taskstest

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/tasks"
)

// Throughput is the one throughput benchmark every store and broker runs:
// per op it clears the jobs table with reset, enqueues jobs no-op tasks
// (untimed), then times workers (extra client options, e.g. a broker) from
// Start until every task ran, and reports jobs/s. It fails if any task is
// left uncompleted.
func Throughput(b *testing.B, db *sqlx.DB, reset string, jobs, workers int, opts ...tasks.Option) {
	ctx := context.Background()
	if err := tasks.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	items := make([]tasks.Item, jobs)
	for i := range items {
		items[i] = tasks.Item{Type: "noop", Args: struct{}{}}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts = append([]tasks.Option{tasks.WithQueue("default", workers), tasks.WithLogger(quiet)}, opts...)
	var worked atomic.Int64
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := db.Exec(reset); err != nil {
			b.Fatal(err)
		}
		c, err := tasks.New(ctx, db, opts...)
		if err != nil {
			b.Fatal(err)
		}
		tasks.Register(c, "noop", func(ctx context.Context, t *tasks.Task[struct{}]) error {
			worked.Add(1)
			return nil
		})
		if _, err := c.EnqueueMany(ctx, items); err != nil {
			b.Fatal(err)
		}
		worked.Store(0)
		b.StartTimer()
		t0 := time.Now()
		if err := c.Start(ctx); err != nil {
			b.Fatal(err)
		}
		for worked.Load() < int64(jobs) {
			time.Sleep(time.Millisecond)
		}
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
	}
	b.ReportMetric(float64(jobs*b.N)/total.Seconds(), "jobs/s")
	var left int
	if err := db.Get(&left, "SELECT COUNT(*) FROM tasks_jobs WHERE state <> 'completed'"); err != nil || left != 0 {
		b.Fatalf("%d tasks not completed (%v)", left, err)
	}
}
