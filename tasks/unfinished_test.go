package tasks_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
)

func TestOldestUnfinished(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		c, err := tasks.New(ctx, sqldbtest.Fresh(t, d))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, ok, err := c.OldestUnfinished(ctx, "a"); err != nil || ok {
			t.Fatalf("empty: ok %v, %v", ok, err)
		}
		before := time.Now().Add(-time.Second)
		first, err := c.Enqueue(ctx, "a", 1, tasks.Delay(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		second, err := c.Enqueue(ctx, "a", 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Enqueue(ctx, "b", 3); err != nil {
			t.Fatal(err)
		}
		in1, err := c.Get(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := c.OldestUnfinished(ctx, "a")
		if err != nil || !ok || !got.Equal(in1.CreatedAt) || got.Before(before) {
			t.Fatalf("oldest of a: %s, %v, %v (want %s)", got, ok, err, in1.CreatedAt)
		}
		// finished tasks do not count
		if err := c.Cancel(ctx, first); err != nil {
			t.Fatal(err)
		}
		in2, err := c.Get(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok, err := c.OldestUnfinished(ctx, "a"); err != nil || !ok || !got.Equal(in2.CreatedAt) {
			t.Fatalf("oldest of a after cancelling the first: %s, %v, %v (want %s)", got, ok, err, in2.CreatedAt)
		}
	})
}
