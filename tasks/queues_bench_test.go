package tasks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
)

// BenchmarkQueues times Client.Queues (counts per queue and state) over a
// tasks table of 10k and 100k tasks, 95% of them completed (finished tasks
// are kept for a day) with ~250-byte args, on 4 queues. baseline = the same
// call without the (queue, state) index of migration 0002, which made the
// count read the whole table; repokit = with it (an index-only scan).
// SQLite always, PostgreSQL when REPOKIT_TEST_POSTGRES_URL is set.
func BenchmarkQueues(b *testing.B) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			for _, n := range []int{10_000, 100_000} {
				b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) { benchQueues(b, d, n) })
			}
		})
	}
}

func benchQueues(b *testing.B, d sqldb.Dialect, n int) {
	ctx := context.Background()
	db := sqldbtest.Fresh(b, d)
	c, err := tasks.New(ctx, db, tasks.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	pad := strings.Repeat("x", 200)
	items := make([]tasks.Item, 0, 1000)
	for i := 0; i < n; i++ {
		items = append(items, tasks.Item{Type: "index", Args: map[string]any{"n": i, "record": pad}, Options: []tasks.EnqueueOption{tasks.Queue(fmt.Sprintf("q%d", i%4))}})
		if len(items) == cap(items) || i == n-1 {
			if _, err := c.EnqueueMany(ctx, items); err != nil {
				b.Fatal(err)
			}
			items = items[:0]
		}
	}
	if _, err := db.Exec("UPDATE tasks_jobs SET state = 'completed', finished_at = run_at WHERE id % 20 <> 0"); err != nil {
		b.Fatal(err)
	}
	analyze := func() {
		q := "ANALYZE"
		if d == sqldb.Postgres {
			q = "VACUUM ANALYZE tasks_jobs" // index-only scans need the visibility map
		}
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B) {
		for b.Loop() {
			qs, err := c.Queues(ctx)
			if err != nil {
				b.Fatal(err)
			}
			var total int64
			for _, q := range qs {
				for _, k := range q.Counts {
					total += k
				}
			}
			if total != int64(n) {
				b.Fatalf("counted %d tasks, want %d", total, n)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) {
		if _, err := db.Exec("DROP INDEX tasks_jobs_queue_state"); err != nil {
			b.Fatal(err)
		}
		analyze()
		run(b)
	})
	b.Run("repokit", func(b *testing.B) {
		if _, err := db.Exec("CREATE INDEX IF NOT EXISTS tasks_jobs_queue_state ON tasks_jobs (queue, state)"); err != nil {
			b.Fatal(err)
		}
		analyze()
		run(b)
	})
}
