package jetstreambroker_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
)

// startNATS starts a throwaway nats-server with JetStream on a free port,
// restartable on the same port and store directory.
func startNATS(t *testing.T) *brokertest.Server {
	bin := testenv.Binary(t, "nats-server", "/usr/sbin")
	dir := t.TempDir()
	return brokertest.StartServer(t, "nats-server", func(port int) *exec.Cmd {
		return exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", dir)
	})
}

func natsURL(s *brokertest.Server) string { return fmt.Sprintf("nats://127.0.0.1:%d", s.Port) }

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestBrokerRestart restarts the NATS server while a queue is being worked.
// The ack wait and the relay's redelivery are ten minutes, so the queue can
// only drain within the test's deadline if the consumer neither drops
// messages (slow consumer) nor waits on a pull request the old server
// forgot: every task must finish without any redelivery.
func TestBrokerRestart(t *testing.T) {
	srv := startNATS(t)
	ctx := context.Background()
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := tasks.New(ctx, db,
		tasks.WithBrokerURL(natsURL(srv)+"?stream=RESTART&ackwait=10m"),
		tasks.WithRedeliver(10*time.Minute),
		tasks.WithLease(10*time.Minute),
		tasks.WithQueue("default", 10),
		tasks.WithLogger(logger),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(sctx)
	})
	var done atomic.Int64
	tasks.Register(c, "work", func(ctx context.Context, tk *tasks.Task[int]) error {
		time.Sleep(20 * time.Millisecond)
		done.Add(1)
		return nil
	})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone := func(what string, n int64) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute) // far below the 10 min ack wait
		for done.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d tasks done; logs:\n%s", what, done.Load(), n, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	enqueue := func(n int) {
		t.Helper()
		items := make([]tasks.Item, n)
		for i := range items {
			items[i] = tasks.Item{Type: "work", Args: i}
		}
		if _, err := c.EnqueueMany(ctx, items); err != nil {
			t.Fatal(err)
		}
	}

	// Restart while the queue is being worked...
	enqueue(400)
	deadline := time.Now().Add(time.Minute)
	for done.Load() < 40 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Kill()
	srv.Start()
	for done.Load() < 150 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Kill()
	srv.Start()
	// A message the server wrote to the socket in the instant it was
	// SIGKILLed is recorded as delivered and comes back only after the ack
	// wait: JetStream's at-least-once contract, not a stall. Allow at most
	// what the queue's workers can hold per busy kill (seen: 4 of 400 in one
	// run of four); the old consumer's "slow consumer" drops are caught by
	// the log check below.
	const inFlightPerKill = 10
	waitDone("restart mid-queue", 400-2*inFlightPerKill)

	// ...and while it is idle (the consumer's pull request is parked on
	// the server that goes away): nothing is in flight, so every new task
	// must run.
	srv.Kill()
	srv.Start()
	base := done.Load()
	enqueue(100)
	waitDone("restart while idle", base+100)

	out := logs.String()
	if strings.Contains(out, "slow consumer") {
		t.Fatalf("the NATS client dropped messages:\n%s", out)
	}
	if !strings.Contains(out, "nats reconnected") || !strings.Contains(out, "component=tasks/jetstreambroker") {
		t.Fatalf("the broker's reconnects are not in the client's log:\n%s", out)
	}
}
