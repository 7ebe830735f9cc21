// Package brokertest holds the test and benchmark plumbing the task
// brokers' tests share beyond the tasks conformance suite: polling with
// load-scaled deadlines, subscribing and receiving, the outage scenario
// (server stopped and started under a running client), the throughput
// benchmark next to the SQL store and the example runner.
package brokertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/taskstest"
)

// Logger logs when REPOKIT_TASKS_LOG is set, like the tasks suite, and
// discards everything otherwise.
func Logger() *slog.Logger {
	if os.Getenv("REPOKIT_TASKS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Eventually polls cond until it holds, failing t after 30 s stretched for
// the machine's load (testenv.Scaled).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, 30*time.Second, what, cond)
}

// Within polls cond until it holds, failing t after d stretched for the
// machine's load.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Within(t, d, what, cond)
}

// Subscribe subscribes to queue and closes the subscription when t ends.
func Subscribe(t testing.TB, b tasks.Broker, queue string, prefetch int) tasks.Subscription {
	t.Helper()
	s, err := b.Subscribe(context.Background(), queue, prefetch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Receive waits for a delivery that should come: up to within, stretched
// for the machine's load; false if none came. A receive error other than
// the timeout fails t.
func Receive(t testing.TB, s tasks.Subscription, within time.Duration) (tasks.Delivery, bool) {
	t.Helper()
	return receive(t, s, testenv.Scaled(within))
}

// Quiet returns the delivery that arrives within d (exactly d: the window
// of a check that nothing is delivered), or false.
func Quiet(t testing.TB, s tasks.Subscription, d time.Duration) (tasks.Delivery, bool) {
	t.Helper()
	return receive(t, s, d)
}

func receive(t testing.TB, s tasks.Subscription, within time.Duration) (tasks.Delivery, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	d, err := s.Receive(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false
		}
		t.Fatalf("Receive: %v", err)
	}
	return d, true
}

// RunOutage runs 300 tasks through brokerURL, calls stop once 50 have run,
// enqueues 50 more while the broker is down, calls start a second later and
// checks that every task completes, each ran, and none ran twice at the
// same time (the lease is kept across the outage or the task is not
// redelivered while it runs).
func RunOutage(t *testing.T, db *sqlx.DB, brokerURL string, stop, start func()) {
	ctx := context.Background()
	c, err := tasks.New(ctx, db, tasks.WithBrokerURL(brokerURL), tasks.WithQueue("default", 8),
		tasks.WithLease(2*time.Second), tasks.WithPollInterval(50*time.Millisecond),
		tasks.WithRetryPolicy(tasks.RetryPolicyFunc(func(int, error) time.Duration { return 20 * time.Millisecond })),
		tasks.WithLogger(Logger()))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	running := map[int]bool{}
	runs := map[int]int{}
	var overlap []int
	tasks.Register(c, "work", func(ctx context.Context, tk *tasks.Task[int]) error {
		mu.Lock()
		if running[tk.Args] {
			overlap = append(overlap, tk.Args)
		}
		running[tk.Args] = true
		runs[tk.Args]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a task that takes a moment
		mu.Lock()
		delete(running, tk.Args)
		mu.Unlock()
		return nil
	})
	const n = 300
	items := make([]tasks.Item, n)
	for i := range items {
		items[i] = tasks.Item{Type: "work", Args: i}
	}
	if _, err := c.EnqueueMany(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(10*time.Second))
		defer cancel()
		_ = c.Stop(sctx)
	})
	Eventually(t, "some progress", func() bool { mu.Lock(); defer mu.Unlock(); return len(runs) >= 50 })
	stop()
	// Enqueue while the broker is down: these must run too.
	more := make([]tasks.Item, 50)
	for i := range more {
		more[i] = tasks.Item{Type: "work", Args: n + i}
	}
	if _, err := c.EnqueueMany(ctx, more); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the outage lasts a second
	start()
	total := int64(n + len(more))
	var last []tasks.QueueInfo
	ok := func() bool {
		qs, err := c.Queues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last = qs
		return len(qs) == 1 && qs[0].Counts[tasks.StateCompleted] == total
	}
	deadline := time.Now().Add(testenv.Scaled(90 * time.Second))
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not all %d tasks completed after the outage: %+v", total, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(overlap) > 0 {
		t.Fatalf("tasks ran twice at the same time: %v", overlap)
	}
	if int64(len(runs)) != total {
		t.Fatalf("%d distinct tasks ran, want %d", len(runs), total)
	}
}

// Throughput benchmarks 20,000 no-op tasks per op with 100 workers and
// PostgreSQL as the store, in the same run: "sql" is the SQL store's own
// polling, name delivers through the broker whose URL brokerURL returns
// (it registers the cleanup of its names with b).
func Throughput(b *testing.B, envVar, name string, brokerURL func(b *testing.B, base string) string) {
	base := sqldbtest.ServiceURL(b, envVar)
	ThroughputOf(b, Way{Name: "sql"}, Way{Name: name, BrokerURL: func(b *testing.B) string { return brokerURL(b, base) }})
}

// Way is one way of delivering tasks in ThroughputOf.
type Way struct {
	Name string
	// BrokerURL returns the URL of the broker to deliver through (and
	// registers the cleanup of its names with b); nil: the SQL store's own
	// polling.
	BrokerURL func(b *testing.B) string
}

// ThroughputOf runs the throughput benchmark of Throughput once per way,
// as sub-benchmarks of one run.
func ThroughputOf(b *testing.B, ways ...Way) {
	for _, w := range ways {
		b.Run(w.Name, func(b *testing.B) {
			var opts []tasks.Option
			if w.BrokerURL != nil {
				opts = append(opts, tasks.WithBrokerURL(w.BrokerURL(b)))
			}
			db := sqldbtest.Fresh(b, sqldb.Postgres)
			db.SetMaxOpenConns(20)
			taskstest.Throughput(b, db, "TRUNCATE tasks_jobs", 20000, 100, opts...)
		})
	}
}

// CheckExample runs example (a package's Example, which prints) and fails t
// unless it printed want.
func CheckExample(t *testing.T, example func(), want string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stdout = old }()
	example()
	w.Close()
	os.Stdout = old
	if out := strings.TrimSpace(<-done); out != want {
		t.Fatalf("Example printed %q, want %q", out, want)
	}
}

// FreePort returns a TCP port of 127.0.0.1 that is free now, for a server
// a test starts.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a throwaway server process on a port of 127.0.0.1, which a
// test kills and starts again on the same port.
type Server struct {
	t       testing.TB
	what    string
	Port    int
	command func(port int) *exec.Cmd
	cmd     *exec.Cmd
}

// StartServer starts the process command returns for a free port, waits
// until the port accepts connections and kills the process when t ends.
func StartServer(t testing.TB, what string, command func(port int) *exec.Cmd) *Server {
	t.Helper()
	s := &Server{t: t, what: what, Port: FreePort(t), command: command}
	t.Cleanup(s.Kill)
	s.Start()
	return s
}

// Start starts the server (again), on the same port, and waits until the
// port accepts connections (up to 30 s stretched for the machine's load).
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = s.command(s.Port)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.what, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	var err error
	Eventually(s.t, s.what+" listening on "+addr, func() bool {
		var c net.Conn
		c, err = net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Kill stops the server with SIGKILL (no shutdown: a crash) and waits for
// it to exit; it does nothing if the server is not running.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
