package sqsbroker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
	_ "github.com/repokit/repokit/tasks/broker/sqsbroker"
)

// Tasks stored in SQL (here an SQLite file), delivered to workers through
// Amazon SQS. (No Output comment: it needs an SQS server; TestExample
// runs it when REPOKIT_TEST_SQS_URL is set and checks what it prints.)
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqsexample")
	defer os.RemoveAll(dir)
	sqsURL := os.Getenv("REPOKIT_TEST_SQS_URL") // e.g. sqs://?region=eu-west-1

	c, err := tasks.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"),
		tasks.WithBrokerURL(sqsURL+"&prefix=example-"+filepath.Base(dir)+"&lease=30s"),
		tasks.WithQueue("default", 4),
		tasks.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	tasks.Register(c, "greet", func(ctx context.Context, t *tasks.Task[string]) error {
		return tasks.SetResult(ctx, "hello "+t.Args)
	})
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	id, err := c.Enqueue(ctx, "greet", "Zenodo")
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
}

// TestExample runs Example against the SQS server and checks its output.
func TestExample(t *testing.T) {
	sqldbtest.ServiceURL(t, sqsEnv)
	brokertest.CheckExample(t, Example, "hello Zenodo <nil>")
	dropQueues(t, os.Getenv(sqsEnv), "example")
}
