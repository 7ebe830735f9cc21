package tasks_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/taskstest"
)

const (
	benchJobs    = 20000
	benchWorkers = 100
	benchConns   = 20
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type riverNoop struct{}

func (riverNoop) Kind() string { return "noop" }

// BenchmarkThroughput works 20,000 no-op tasks per op on PostgreSQL with 100
// workers and a 20-connection pool: baseline = River v0.51.2 (riverpgxv5,
// pgxpool), repokit = this package. Each op inserts the tasks (not timed),
// starts a client and stops the clock when all are worked and their
// completions are flushed (Stop).
func BenchmarkThroughput(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		url := sqldbtest.FreshURL(b, sqldb.Postgres)
		ctx := context.Background()
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = benchConns
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		drv := riverpgxv5.New(pool)
		mig, err := rivermigrate.New(drv, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			b.Fatal(err)
		}
		var worked atomic.Int64
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[riverNoop]) error {
			worked.Add(1)
			return nil
		}))
		params := make([]river.InsertManyParams, benchJobs)
		for i := range params {
			params[i] = river.InsertManyParams{Args: riverNoop{}}
		}
		var total time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			if _, err := pool.Exec(ctx, "TRUNCATE river_job"); err != nil {
				b.Fatal(err)
			}
			rc, err := river.NewClient(drv, &river.Config{
				Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: benchWorkers}},
				Workers: workers,
				Logger:  quiet,
				// River's fastest fetch settings, so the baseline is not
				// held back by its 100 ms default cooldown.
				FetchCooldown:     time.Millisecond,
				FetchPollInterval: 50 * time.Millisecond,
			})
			if err != nil {
				b.Fatal(err)
			}
			for off := 0; off < benchJobs; off += 5000 {
				if _, err := rc.InsertMany(ctx, params[off:off+5000]); err != nil {
					b.Fatal(err)
				}
			}
			worked.Store(0)
			b.StartTimer()
			t0 := time.Now()
			if err := rc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			for worked.Load() < benchJobs {
				time.Sleep(time.Millisecond)
			}
			if err := rc.Stop(ctx); err != nil {
				b.Fatal(err)
			}
			total += time.Since(t0)
		}
		b.ReportMetric(float64(benchJobs*b.N)/total.Seconds(), "jobs/s")
		var left int
		if err := pool.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE state <> 'completed'").Scan(&left); err != nil || left != 0 {
			b.Fatalf("%d River jobs not completed (%v)", left, err)
		}
	})
	b.Run("repokit", func(b *testing.B) {
		db := sqldbtest.Fresh(b, sqldb.Postgres)
		db.SetMaxOpenConns(benchConns)
		benchRepokit(b, db, "TRUNCATE tasks_jobs")
	})
}

// BenchmarkThroughputSQLite is the repokit throughput on an SQLite file.
func BenchmarkThroughputSQLite(b *testing.B) {
	db := sqldbtest.Fresh(b, sqldb.SQLite)
	benchRepokit(b, db, "DELETE FROM tasks_jobs")
}

func benchRepokit(b *testing.B, db *sqlx.DB, reset string) {
	taskstest.Throughput(b, db, reset, benchJobs, benchWorkers)
}

// BenchmarkEnqueue measures the latency of one Enqueue (its own
// transaction) per dialect.
func BenchmarkEnqueue(b *testing.B) {
	for _, d := range sqldbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := sqldbtest.Fresh(b, d)
			c, err := tasks.New(context.Background(), db, tasks.WithLogger(quiet))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Enqueue(ctx, "noop", i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
