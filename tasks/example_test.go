package tasks_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/repokit/repokit/tasks"
)

type Greeting struct {
	Name string `json:"name"`
}

// A client on an SQLite file: register a typed handler, start the workers,
// enqueue a task and wait for its result.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tasks-example")
	defer os.RemoveAll(dir)

	c, err := tasks.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"),
		tasks.WithQueue("default", 4),
		tasks.WithPollInterval(50*time.Millisecond),
		tasks.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	tasks.Register(c, "greet", func(ctx context.Context, t *tasks.Task[Greeting]) error {
		return tasks.SetResult(ctx, "hello "+t.Args.Name)
	})
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	id, err := c.Enqueue(ctx, "greet", Greeting{Name: "Zenodo"}, tasks.MaxAttempts(3))
	if err != nil {
		panic(err)
	}
	if _, err := c.Wait(ctx, id); err != nil {
		panic(err)
	}
	r, err := tasks.ResultAs[string](ctx, c, id)
	fmt.Println(r, err)
	// Output: hello Zenodo <nil>
}
