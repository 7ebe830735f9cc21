package tasks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/tasks"
)

// A record and its follow-up task in one transaction (the outbox): the task
// exists only if the record commits, and the workers are woken at the
// commit, not at the next poll (an hour here).
func ExampleClient_WithTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tasks-example")
	defer os.RemoveAll(dir)

	recs, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "repo.db"))
	if err != nil {
		panic(err)
	}
	defer recs.Close()
	c, err := tasks.New(ctx, recs.DB(),
		tasks.WithPollInterval(time.Hour),
		tasks.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	tasks.Register(c, "doi.register", func(ctx context.Context, t *tasks.Task[string]) error {
		return tasks.SetResult(ctx, "registered "+t.Args)
	})
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	defer c.Stop(ctx)

	var id int64
	err = sqltx.InTx(ctx, recs.DB(), func(tx *sqlx.Tx) error {
		rec, err := recs.WithTx(tx).Create(ctx, json.RawMessage(`{"title":"Relativity"}`))
		if err != nil {
			return err
		}
		id, err = c.WithTx(tx).Enqueue(ctx, "doi.register", fmt.Sprint("record revision ", rec.Revision))
		return err
	})
	if err != nil {
		panic(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Wait(wctx, id); err != nil {
		panic(err)
	}
	r, err := tasks.ResultAs[string](ctx, c, id)
	fmt.Println(r, err)
	// Output: registered record revision 0 <nil>
}
