package taskstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/tasks"
)

// Run runs the whole conformance suite against h.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"EnqueueAndRun", testEnqueueAndRun},
		{"EnqueueManyAndResults", testEnqueueManyAndResults},
		{"TxRolledBackNeverRuns", testTxRollback},
		{"TxCommitWakesWorkers", testTxWakes},
		{"UniqueKey", testUniqueKey},
		{"RetryBackoffDeadAndManualRetry", testRetryDead},
		{"PanicIsFailure", testPanic},
		{"SnoozeAndCancelFromHandler", testSnoozeCancel},
		{"BadInputDeadLettered", testBadInput},
		{"Timeout", testTimeout},
		{"DelayAndCancelByHand", testDelayCancel},
		{"PauseResumeQueuesAndCounts", testPauseResume},
		{"Priority", testPriority},
		{"PerQueueConcurrency", testConcurrency},
		{"BatchHandler", testBatch},
		{"BatchHandlerMiddleware", testBatchMiddleware},
		{"ProgressResultCacheAndMiddleware", testProgressCacheMiddleware},
		{"ResultRetentionAndCleaner", testRetention},
		{"HeartbeatKeepsLease", testHeartbeat},
		{"GracefulStopFinishes", testStopFinishes},
		{"StopDeadlineReleases", testStopReleases},
		{"IntervalSchedule", testIntervalSchedule},
		{"ScheduleTickOnceAcrossClients", testScheduleOnceClients},
		{"ScheduleTickOnceAcrossProcesses", testScheduleOnceProcesses},
		{"WorkerKilledTaskRunsAgain", testKillWorker},
		{"CrashesRecordedAndBounded", testCrashes},
		{"Thousand", testThousand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newEnv(t, h))
		})
	}
}

type msg struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

func testEnqueueAndRun(t *testing.T, e *env) {
	c := e.client(tasks.WithQueue("default", 4), tasks.WithQueue("other", 2))
	var mu sync.Mutex
	seen := map[int]string{}
	tasks.Register(c, "echo", func(ctx context.Context, tk *tasks.Task[msg]) error {
		if tk.Attempt != 1 || tk.MaxAttempts != 5 || tk.Type != "echo" {
			return tasks.Cancel(fmt.Errorf("bad task metadata %+v", tk))
		}
		mu.Lock()
		seen[tk.Args.N] = tk.Queue + ":" + tk.Args.Text
		mu.Unlock()
		return tasks.SetResult(ctx, map[string]int{"double": tk.Args.N * 2})
	})
	start(t, c)
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 20; i++ {
		q := "default"
		if i%2 == 1 {
			q = "other"
		}
		id, err := c.Enqueue(ctx, "echo", msg{N: i, Text: "hi"}, tasks.Queue(q), tasks.MaxAttempts(5))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		in := wait(t, c, id)
		if in.State != tasks.StateCompleted {
			t.Fatalf("task %d: state %s (%s)", id, in.State, in.LastError)
		}
		v, err := tasks.ResultAs[map[string]int](ctx, c, id)
		if err != nil || v["double"] != 2*i {
			t.Fatalf("result of %d = %v, %v; want double=%d", id, v, err, 2*i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 20 || seen[3] != "other:hi" || seen[4] != "default:hi" {
		t.Fatalf("handler saw %v", seen)
	}
}

func testEnqueueManyAndResults(t *testing.T, e *env) {
	c := e.client()
	var n atomic.Int64
	tasks.Register(c, "count", func(ctx context.Context, tk *tasks.Task[int]) error {
		n.Add(int64(tk.Args))
		return nil
	})
	ctx := context.Background()
	items := make([]tasks.Item, 300)
	want := int64(0)
	for i := range items {
		items[i] = tasks.Item{Type: "count", Args: i}
		want += int64(i)
	}
	ids, err := c.EnqueueMany(ctx, items)
	if err != nil || len(ids) != len(items) {
		t.Fatalf("EnqueueMany: %d ids, %v", len(ids), err)
	}
	// ids are distinct and map to the right args
	in, err := c.Get(ctx, ids[123])
	if err != nil || string(in.Args) != "123" || in.State != tasks.StateAvailable {
		t.Fatalf("Get(ids[123]) = %+v, %v", in, err)
	}
	if _, err := c.Result(ctx, ids[0]); !errors.Is(err, tasks.ErrNotDone) {
		t.Fatalf("Result before run: %v, want ErrNotDone", err)
	}
	start(t, c)
	eventually(t, "all counted", func() bool { return n.Load() == want })
	for _, id := range []int64{ids[0], ids[299]} {
		if in := wait(t, c, id); in.State != tasks.StateCompleted {
			t.Fatalf("state %s", in.State)
		}
		if r, err := c.Result(ctx, id); err != nil || r != nil {
			t.Fatalf("Result of a task without result = %s, %v", r, err)
		}
	}
	if _, err := c.Result(ctx, 1<<40); !errors.Is(err, tasks.ErrNotFound) {
		t.Fatalf("Result of missing task: %v", err)
	}
}

func testTxRollback(t *testing.T, e *env) {
	c := e.client()
	var mu sync.Mutex
	var ran []string
	tasks.Register(c, "tx", func(ctx context.Context, tk *tasks.Task[string]) error {
		mu.Lock()
		ran = append(ran, tk.Args)
		mu.Unlock()
		return nil
	})
	ctx := context.Background()
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rolledID, err := c.WithTx(tx).Enqueue(ctx, "tx", "rolled-back")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx, err = e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	okID, err := c.WithTx(tx).Enqueue(ctx, "tx", "committed")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	if in := wait(t, c, okID); in.State != tasks.StateCompleted {
		t.Fatalf("committed task: %s", in.State)
	}
	if rolledID != okID {
		if _, err := c.Get(ctx, rolledID); !errors.Is(err, tasks.ErrNotFound) {
			t.Fatalf("rolled-back task exists: %v", err)
		}
	}
	// Give the workers several more polls to (wrongly) run it.
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 1 || ran[0] != "committed" {
		t.Fatalf("ran %v, want only [committed]", ran)
	}
}

// testTxWakes: a task enqueued in the caller's transaction (WithTx) is
// picked up once that transaction commits, not at the next poll: the poll
// interval here is far longer than the test's deadline. Single-task and
// batch handlers, Enqueue and EnqueueMany.
func testTxWakes(t *testing.T, e *env) {
	c := e.client(tasks.WithPollInterval(time.Hour))
	tasks.Register(c, "txwake", func(ctx context.Context, tk *tasks.Task[string]) error { return nil })
	tasks.RegisterBatch(c, "txwakebatch", func(ctx context.Context, ts []*tasks.Task[string]) []error {
		return make([]error, len(ts))
	})
	ctx := context.Background()
	start(t, c)
	// Once these ran, the workers and the batch fetcher are idle, waiting
	// for the next poll (an hour) or a wake-up.
	warm, err := c.EnqueueMany(ctx, []tasks.Item{{Type: "txwake", Args: "warm"}, {Type: "txwakebatch", Args: "warm"}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, warm, tasks.StateCompleted)

	for _, typ := range []string{"txwake", "txwakebatch"} {
		var ids []int64
		err := sqltx.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
			ids = ids[:0]
			one, err := c.WithTx(tx).Enqueue(ctx, typ, "one")
			if err != nil {
				return err
			}
			many, err := c.WithTx(tx).EnqueueMany(ctx, []tasks.Item{{Type: typ, Args: "two"}, {Type: typ, Args: "three"}})
			ids = append(append(ids, one), many...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, c, ids, tasks.StateCompleted)
	}
}

// waitState polls the tasks ids until all are in state, failing after 20 s
// (much shorter than the poll interval testTxWakes sets).
func waitState(t *testing.T, c *tasks.Client, ids []int64, state tasks.State) {
	t.Helper()
	var last []tasks.State
	deadline := time.Now().Add(20 * time.Second)
	for {
		last = last[:0]
		all := true
		for _, id := range ids {
			in, err := c.Get(context.Background(), id)
			if err != nil {
				t.Fatalf("Get(%d): %v", id, err)
			}
			last = append(last, in.State)
			all = all && in.State == state
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks %v still %v after 20 s, want %s", ids, last, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testUniqueKey(t *testing.T, e *env) {
	c := e.client()
	release := make(chan struct{})
	var runs atomic.Int64
	tasks.Register(c, "uniq", func(ctx context.Context, tk *tasks.Task[int]) error {
		runs.Add(1)
		<-release
		return nil
	})
	ctx := context.Background()
	a, err := c.Enqueue(ctx, "uniq", 1, tasks.UniqueKey("k1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Enqueue(ctx, "uniq", 2, tasks.UniqueKey("k1"))
	if err != nil || b != a {
		t.Fatalf("duplicate while pending: id %d (first %d), %v", b, a, err)
	}
	// Inside a transaction too (must not abort the caller's transaction).
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.WithTx(tx).Enqueue(ctx, "uniq", 3, tasks.UniqueKey("k1"))
	if err != nil || d != a {
		t.Fatalf("duplicate in tx: %d, %v", d, err)
	}
	other, err := c.WithTx(tx).Enqueue(ctx, "uniq", 4, tasks.UniqueKey("k2"))
	if err != nil || other == a {
		t.Fatalf("other key in tx: %d, %v", other, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after a duplicate: %v", err)
	}
	start(t, c)
	eventually(t, "first run", func() bool { return runs.Load() >= 1 })
	// Running still holds the key.
	if id, err := c.Enqueue(ctx, "uniq", 5, tasks.UniqueKey("k1")); err != nil || id != a {
		t.Fatalf("duplicate while running: %d, %v (want %d)", id, err, a)
	}
	close(release)
	wait(t, c, a)
	wait(t, c, other)
	n, err := c.Enqueue(ctx, "uniq", 6, tasks.UniqueKey("k1"))
	if err != nil || n == a {
		t.Fatalf("after completion the key must be free: %d, %v", n, err)
	}
	if in := wait(t, c, n); in.State != tasks.StateCompleted || string(in.Args) != "6" {
		t.Fatalf("new unique task: %+v", in)
	}
	if got := runs.Load(); got != 3 {
		t.Fatalf("runs = %d, want 3", got)
	}
}

func testRetryDead(t *testing.T, e *env) {
	c := e.client()
	var fail atomic.Bool
	fail.Store(true)
	var attempts []int
	var mu sync.Mutex
	tasks.Register(c, "flaky", func(ctx context.Context, tk *tasks.Task[struct{}]) error {
		mu.Lock()
		attempts = append(attempts, tk.Attempt)
		mu.Unlock()
		if fail.Load() {
			return fmt.Errorf("remote down (attempt %d)", tk.Attempt)
		}
		return nil
	})
	start(t, c)
	ctx := context.Background()
	id, err := c.Enqueue(ctx, "flaky", struct{}{}, tasks.MaxAttempts(3))
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.Wait(ctx, id)
	if !errors.Is(err, tasks.ErrFailed) || in.State != tasks.StateDead {
		t.Fatalf("Wait = %v, %v; want dead + ErrFailed", in, err)
	}
	in, err = c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if in.Attempt != 3 || !strings.Contains(in.LastError, "attempt 3") || len(in.Errors) != 3 || in.Errors[0].Attempt != 1 ||
		!strings.Contains(in.Errors[1].Error, "attempt 2") {
		t.Fatalf("dead task = attempt %d, last %q, errors %+v", in.Attempt, in.LastError, in.Errors)
	}
	if _, err := c.Result(ctx, id); !errors.Is(err, tasks.ErrFailed) {
		t.Fatalf("Result of dead: %v", err)
	}
	fail.Store(false)
	if err := c.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	if in := wait(t, c, id); in.State != tasks.StateCompleted || in.Attempt != 1 {
		t.Fatalf("after manual retry: %s attempt %d", in.State, in.Attempt)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(attempts) != "[1 2 3 1]" {
		t.Fatalf("attempts %v", attempts)
	}
	if err := c.Retry(ctx, 1<<40); !errors.Is(err, tasks.ErrNotFound) {
		t.Fatalf("Retry(missing): %v", err)
	}

	// The default policy backs off exponentially with jitter.
	p := tasks.DefaultRetryPolicy{Base: time.Second, Max: time.Minute, Jitter: 0.1}
	for a, want := range map[int]time.Duration{1: time.Second, 3: 4 * time.Second, 20: time.Minute} {
		got := p.NextRetry(a, nil)
		if got < want*9/10 || got > want*11/10 {
			t.Fatalf("NextRetry(%d) = %v, want %v ±10%%", a, got, want)
		}
	}
}

func testPanic(t *testing.T, e *env) {
	c := e.client()
	tasks.Register(c, "boom", func(ctx context.Context, tk *tasks.Task[int]) error {
		if tk.Attempt == 1 {
			panic("kaboom")
		}
		return nil
	})
	start(t, c)
	id, err := c.Enqueue(context.Background(), "boom", 1, tasks.MaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	in := wait(t, c, id)
	if in.State != tasks.StateCompleted || in.Attempt != 2 {
		t.Fatalf("after panic: %s attempt %d", in.State, in.Attempt)
	}
	full, _ := c.Get(context.Background(), id)
	if len(full.Errors) != 1 || !strings.Contains(full.Errors[0].Error, "panic: kaboom") || full.Errors[0].Crash {
		t.Fatalf("errors %+v", full.Errors)
	}
	if full.LastError != "" {
		t.Fatalf("completed task shows an earlier failure as its current error: %q", full.LastError)
	}
}

func testSnoozeCancel(t *testing.T, e *env) {
	c := e.client()
	var snoozes atomic.Int64
	tasks.Register(c, "sleepy", func(ctx context.Context, tk *tasks.Task[int]) error {
		if snoozes.Add(1) <= 2 {
			return tasks.Snooze(50 * time.Millisecond)
		}
		return nil
	})
	tasks.Register(c, "quitter", func(ctx context.Context, tk *tasks.Task[int]) error {
		return tasks.Cancel(errors.New("record was deleted"))
	})
	start(t, c)
	ctx := context.Background()
	s, _ := c.Enqueue(ctx, "sleepy", 1, tasks.MaxAttempts(1))
	q, _ := c.Enqueue(ctx, "quitter", 1)
	if in := wait(t, c, s); in.State != tasks.StateCompleted || in.Attempt != 1 || snoozes.Load() != 3 {
		t.Fatalf("snoozed task: %s attempt %d after %d runs (snooze must not use attempts)", in.State, in.Attempt, snoozes.Load())
	}
	in, err := c.Wait(ctx, q)
	if !errors.Is(err, tasks.ErrFailed) || in.State != tasks.StateCancelled || !strings.Contains(in.LastError, "record was deleted") || in.Attempt != 1 {
		t.Fatalf("cancelled task: %+v, %v", in, err)
	}
}

func testBadInput(t *testing.T, e *env) {
	c := e.client()
	tasks.Register(c, "typed", func(ctx context.Context, tk *tasks.Task[msg]) error { return nil })
	start(t, c)
	ctx := context.Background()
	unknown, err := c.Enqueue(ctx, "no.such.type", 1)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := c.Enqueue(ctx, "typed", "not an object")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{unknown: "unknown task type", bad: "bad task args"} {
		in, err := c.Wait(ctx, id)
		if !errors.Is(err, tasks.ErrFailed) || in.State != tasks.StateDead || !strings.Contains(in.LastError, want) || in.Attempt != 1 {
			t.Fatalf("task %d: %+v, %v; want dead at once with %q", id, in, err, want)
		}
	}
	if _, err := c.Enqueue(ctx, "typed", make(chan int)); !errors.Is(err, tasks.ErrBadArgs) {
		t.Fatalf("unencodable args: %v", err)
	}
	if _, err := c.Enqueue(ctx, "", 1); !errors.Is(err, tasks.ErrInvalid) {
		t.Fatalf("empty type: %v", err)
	}
	if _, err := c.Enqueue(ctx, "typed", 1, tasks.MaxAttempts(0)); !errors.Is(err, tasks.ErrInvalid) {
		t.Fatalf("max attempts 0: %v", err)
	}
	c2 := e.client()
	for _, spec := range []string{"not a cron", "61 * * * *", "@every -1s", "@every banana", ""} {
		if err := c2.Schedule("s", spec, "typed", msg{}); !errors.Is(err, tasks.ErrBadSchedule) {
			t.Fatalf("Schedule(%q): %v, want ErrBadSchedule", spec, err)
		}
	}
	if _, err := tasks.ParseSpec("*/5 * * * *"); err != nil {
		t.Fatalf("valid cron: %v", err)
	}
}

func testTimeout(t *testing.T, e *env) {
	c := e.client()
	tasks.Register(c, "slow", func(ctx context.Context, tk *tasks.Task[int]) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return nil
		}
	})
	start(t, c)
	id, _ := c.Enqueue(context.Background(), "slow", 1, tasks.Timeout(100*time.Millisecond), tasks.MaxAttempts(1))
	in := wait(t, c, id)
	if in.State != tasks.StateDead || !strings.Contains(in.LastError, "timed out") {
		t.Fatalf("timed-out task: %s %q", in.State, in.LastError)
	}
	if in.Timeout != 100*time.Millisecond {
		t.Fatalf("timeout stored as %v", in.Timeout)
	}
}

func testDelayCancel(t *testing.T, e *env) {
	c := e.client()
	var ran sync.Map
	tasks.Register(c, "later", func(ctx context.Context, tk *tasks.Task[string]) error {
		ran.Store(tk.Args, time.Now())
		return nil
	})
	ctx := context.Background()
	t0 := time.Now()
	d, _ := c.Enqueue(ctx, "later", "delayed", tasks.Delay(400*time.Millisecond))
	x, _ := c.Enqueue(ctx, "later", "cancelled", tasks.At(time.Now().Add(300*time.Millisecond)))
	in, err := c.Get(ctx, d)
	if err != nil || in.State != tasks.StateScheduled || in.RunAt.Before(t0.Add(390*time.Millisecond)) {
		t.Fatalf("delayed task = %+v, %v", in, err)
	}
	if err := c.Cancel(ctx, x); err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(ctx, x); !errors.Is(err, tasks.ErrConflict) {
		t.Fatalf("cancel twice: %v", err)
	}
	start(t, c)
	wait(t, c, d)
	v, ok := ran.Load("delayed")
	if !ok || v.(time.Time).Before(t0.Add(400*time.Millisecond)) {
		t.Fatalf("delayed task ran at %v (enqueued %v)", v, t0)
	}
	time.Sleep(200 * time.Millisecond)
	if _, ok := ran.Load("cancelled"); ok {
		t.Fatal("cancelled task ran")
	}
	if in, _ := c.Get(ctx, x); in.State != tasks.StateCancelled {
		t.Fatalf("state %s", in.State)
	}
}

func testPauseResume(t *testing.T, e *env) {
	c := e.client(tasks.WithQueue("a", 2), tasks.WithQueue("b", 2))
	var ranA, ranB atomic.Int64
	tasks.Register(c, "a", func(ctx context.Context, tk *tasks.Task[int]) error { ranA.Add(1); return nil })
	tasks.Register(c, "b", func(ctx context.Context, tk *tasks.Task[int]) error { ranB.Add(1); return nil })
	ctx := context.Background()
	if err := c.PauseQueue(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	for i := 0; i < 5; i++ {
		if _, err := c.Enqueue(ctx, "a", i, tasks.Queue("a")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Enqueue(ctx, "b", i, tasks.Queue("b")); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "queue b done", func() bool { return ranB.Load() == 5 })
	time.Sleep(200 * time.Millisecond)
	if ranA.Load() != 0 {
		t.Fatalf("paused queue ran %d tasks", ranA.Load())
	}
	qs, err := c.Queues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tasks.QueueInfo{}
	for _, q := range qs {
		got[q.Name] = q
	}
	if !got["a"].Paused || got["a"].Counts[tasks.StateAvailable] != 5 || got["b"].Paused {
		t.Fatalf("queues before resume: %+v", qs)
	}
	eventually(t, "b completed count", func() bool {
		qs, _ := c.Queues(ctx)
		for _, q := range qs {
			if q.Name == "b" {
				return q.Counts[tasks.StateCompleted] == 5
			}
		}
		return false
	})
	list, err := c.List(ctx, tasks.ListParams{Queue: "a", State: tasks.StateAvailable, Limit: 3})
	if err != nil || len(list) != 3 {
		t.Fatalf("List page 1: %d, %v", len(list), err)
	}
	more, err := c.List(ctx, tasks.ListParams{Queue: "a", AfterID: list[2].ID})
	if err != nil || len(more) != 2 || more[0].ID <= list[2].ID {
		t.Fatalf("List page 2: %d, %v", len(more), err)
	}
	if err := c.ResumeQueue(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "queue a done after resume", func() bool { return ranA.Load() == 5 })
}

func testPriority(t *testing.T, e *env) {
	if e.h.Unordered {
		t.Skip("this broker delivers concurrently: priority orders publishing, not execution")
	}
	c := e.client(tasks.WithQueue("default", 1))
	var mu sync.Mutex
	var order []int
	tasks.Register(c, "p", func(ctx context.Context, tk *tasks.Task[int]) error {
		mu.Lock()
		order = append(order, tk.Args)
		mu.Unlock()
		return nil
	})
	ctx := context.Background()
	if err := c.PauseQueue(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	var last int64
	for i, p := range []int{0, 5, 1, 9, 5} {
		id, err := c.Enqueue(ctx, "p", i, tasks.Priority(p))
		if err != nil {
			t.Fatal(err)
		}
		last = id
	}
	start(t, c)
	if err := c.ResumeQueue(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	wait(t, c, last)
	eventually(t, "all five ran", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 5 })
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(order) != "[3 1 4 2 0]" {
		t.Fatalf("order %v, want [3 1 4 2 0] (priority desc, then FIFO)", order)
	}
}

func testConcurrency(t *testing.T, e *env) {
	c := e.client(tasks.WithQueue("default", 3), tasks.WithQueue("solo", 1))
	var cur, peak, curSolo, peakSolo atomic.Int64
	track := func(cur, peak *atomic.Int64) func(ctx context.Context, tk *tasks.Task[int]) error {
		return func(ctx context.Context, tk *tasks.Task[int]) error {
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond)
			cur.Add(-1)
			return nil
		}
	}
	tasks.Register(c, "d", track(&cur, &peak))
	tasks.Register(c, "s", track(&curSolo, &peakSolo))
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 12; i++ {
		a, _ := c.Enqueue(ctx, "d", i)
		b, _ := c.Enqueue(ctx, "s", i, tasks.Queue("solo"))
		ids = append(ids, a, b)
	}
	start(t, c)
	for _, id := range ids {
		wait(t, c, id)
	}
	if peak.Load() > 3 || peakSolo.Load() != 1 {
		t.Fatalf("peak concurrency default=%d (max 3) solo=%d (max 1)", peak.Load(), peakSolo.Load())
	}
	if peak.Load() < 2 {
		t.Fatalf("default queue never ran tasks in parallel (peak %d)", peak.Load())
	}
}

// testBatchMiddleware: WithMiddleware wraps each task of a batch handler as
// it wraps a single task: it sees every task and its outcome, and a task it
// rejects never reaches the batch handler.
func testBatchMiddleware(t *testing.T, e *env) {
	var mu sync.Mutex
	seen := map[int64]string{} // task id -> error the outer middleware saw ("" = nil)
	handled := map[int]bool{}  // args the batch handler got
	outer := func(next tasks.Handler) tasks.Handler {
		return func(ctx context.Context, j *tasks.Job) error {
			err := next(ctx, j)
			mu.Lock()
			seen[j.ID] = fmt.Sprint(err)
			mu.Unlock()
			return err
		}
	}
	reject := func(next tasks.Handler) tasks.Handler {
		return func(ctx context.Context, j *tasks.Job) error {
			if string(j.Args) == "7" {
				return tasks.Cancel(errors.New("rejected by middleware"))
			}
			return next(ctx, j)
		}
	}
	c := e.client(tasks.WithMiddleware(outer, reject))
	tasks.RegisterBatch(c, "mwbatch", func(ctx context.Context, ts []*tasks.Task[int]) []error {
		errs := make([]error, len(ts))
		mu.Lock()
		defer mu.Unlock()
		for i, tk := range ts {
			handled[tk.Args] = true
			if tk.Args == 3 {
				errs[i] = errors.New("three failed")
			}
		}
		return errs
	}, tasks.BatchSize(20), tasks.BatchWait(100*time.Millisecond))
	ctx := context.Background()
	items := make([]tasks.Item, 10)
	for i := range items {
		items[i] = tasks.Item{Type: "mwbatch", Args: i, Options: []tasks.EnqueueOption{tasks.MaxAttempts(1)}}
	}
	ids, err := c.EnqueueMany(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)
	for i, id := range ids {
		in := wait(t, c, id)
		want := tasks.StateCompleted
		switch i {
		case 3:
			want = tasks.StateDead
		case 7:
			want = tasks.StateCancelled
		}
		if in.State != want {
			t.Fatalf("task %d: %s (%s), want %s", i, in.State, in.LastError, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, id := range ids {
		got, ok := seen[id]
		switch {
		case !ok:
			t.Fatalf("middleware never saw batch task %d", i)
		case i == 3 && !strings.Contains(got, "three failed"):
			t.Fatalf("middleware saw %q for task 3, want the handler's error", got)
		case i == 7 && !strings.Contains(got, "rejected by middleware"):
			t.Fatalf("middleware saw %q for task 7, want its rejection", got)
		case i != 3 && i != 7 && got != "<nil>":
			t.Fatalf("middleware saw %q for task %d, want nil", got, i)
		}
		if handled[i] == (i == 7) {
			t.Fatalf("batch handler got task %d: %v (a rejected task must not reach it, every other must)", i, handled[i])
		}
	}
}

func testBatch(t *testing.T, e *env) {
	c := e.client()
	var mu sync.Mutex
	var sizes []int
	tasks.RegisterBatch(c, "index", func(ctx context.Context, ts []*tasks.Task[int]) []error {
		mu.Lock()
		sizes = append(sizes, len(ts))
		mu.Unlock()
		errs := make([]error, len(ts))
		for i, tk := range ts {
			if tk.Args == 13 {
				errs[i] = errors.New("unlucky")
			}
		}
		return errs
	}, tasks.BatchSize(10), tasks.BatchWait(200*time.Millisecond))
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 25; i++ {
		id, err := c.Enqueue(ctx, "index", i, tasks.MaxAttempts(2))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	badArgs, _ := c.Enqueue(ctx, "index", "x")
	start(t, c)
	for i, id := range ids {
		in := wait(t, c, id)
		want := tasks.StateCompleted
		if i == 13 {
			want = tasks.StateDead
		}
		if in.State != want {
			t.Fatalf("batch task %d: %s (%s), want %s", i, in.State, in.LastError, want)
		}
	}
	if in := wait(t, c, badArgs); in.State != tasks.StateDead || !strings.Contains(in.LastError, "bad task args") {
		t.Fatalf("bad args in batch: %s %q", in.State, in.LastError)
	}
	// A batch handler gives results through Client.SetResult.
	if err := c.SetResult(ctx, ids[3], map[string]int{"n": 3}); err != nil {
		t.Fatal(err)
	}
	if v, err := tasks.ResultAs[map[string]int](ctx, c, ids[3]); err != nil || v["n"] != 3 {
		t.Fatalf("result set after the batch: %v, %v", v, err)
	}
	if err := c.SetResult(ctx, 1<<40, 1); !errors.Is(err, tasks.ErrNotFound) {
		t.Fatalf("SetResult of a missing task: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	total, maxSize := 0, 0
	for _, s := range sizes {
		total += s
		maxSize = max(maxSize, s)
	}
	if maxSize > 10 || total != 26 || maxSize < 5 {
		t.Fatalf("batch sizes %v (total %d, want 25 + 1 retry, max 10, batches filled)", sizes, total)
	}
}

type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	gets atomic.Int64
}

func (m *mapCache) Get(ctx context.Context, k string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets.Add(1)
	v, ok := m.m[k]
	if !ok {
		return nil, errors.New("miss")
	}
	return v, nil
}

func (m *mapCache) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ttl <= 0 {
		return errors.New("ttl must be positive")
	}
	m.m[k] = v
	return nil
}

func testProgressCacheMiddleware(t *testing.T, e *env) {
	rc := &mapCache{m: map[string][]byte{}}
	var calls atomic.Int64
	var sawErr atomic.Int64
	mw := func(next tasks.Handler) tasks.Handler {
		return func(ctx context.Context, j *tasks.Job) error {
			calls.Add(1)
			err := next(ctx, j)
			if err != nil {
				sawErr.Add(1)
			}
			return err
		}
	}
	c := e.client(tasks.WithResultCache(rc), tasks.WithMiddleware(mw, tasks.LogMiddleware(quietLogger())))
	step := make(chan struct{})
	tasks.Register(c, "long", func(ctx context.Context, tk *tasks.Task[int]) error {
		if err := tasks.SetProgress(ctx, map[string]int{"done": 50}); err != nil {
			return err
		}
		<-step
		return tasks.SetResult(ctx, "finished")
	})
	tasks.Register(c, "fails", func(ctx context.Context, tk *tasks.Task[int]) error { return errors.New("x") })
	start(t, c)
	ctx := context.Background()
	id, _ := c.Enqueue(ctx, "long", 1)
	f, _ := c.Enqueue(ctx, "fails", 1, tasks.MaxAttempts(1))
	eventually(t, "progress visible", func() bool {
		in, err := c.Get(ctx, id)
		var p map[string]int
		return err == nil && in.State == tasks.StateRunning && json.Unmarshal(in.Progress, &p) == nil && p["done"] == 50
	})
	if err := tasks.SetProgress(ctx, 1); !errors.Is(err, tasks.ErrInvalid) {
		t.Fatalf("SetProgress outside a handler: %v", err)
	}
	close(step)
	wait(t, c, id)
	wait(t, c, f)
	key := "tasks:result:" + fmt.Sprint(id)
	eventually(t, "result cached", func() bool { v, _ := rc.Get(ctx, key); return string(v) == `"finished"` })
	rc.mu.Lock()
	rc.m[key] = []byte(`"from cache"`)
	rc.mu.Unlock()
	if r, err := c.Result(ctx, id); err != nil || string(r) != `"from cache"` {
		t.Fatalf("Result did not read the cache: %s, %v", r, err)
	}
	rc.mu.Lock()
	delete(rc.m, key)
	rc.mu.Unlock()
	if r, err := c.Result(ctx, id); err != nil || string(r) != `"finished"` {
		t.Fatalf("Result after a cache miss: %s, %v", r, err)
	}
	if calls.Load() != 2 || sawErr.Load() != 1 {
		t.Fatalf("middleware calls %d errors %d, want 2 and 1", calls.Load(), sawErr.Load())
	}
}

func testRetention(t *testing.T, e *env) {
	// Retention is judged when a result is read or cleaned, so c keeps
	// results for an hour (reading one right after it is written cannot
	// race a loaded machine) and short, a second client with a 1 s
	// retention on the same tables, shows the expiry.
	c := e.client(tasks.WithResultRetention(time.Hour), tasks.WithDeadRetention(time.Hour))
	tasks.Register(c, "r", func(ctx context.Context, tk *tasks.Task[int]) error {
		if tk.Args < 0 {
			return errors.New("neg")
		}
		return tasks.SetResult(ctx, tk.Args)
	})
	start(t, c)
	ctx := context.Background()
	id, _ := c.Enqueue(ctx, "r", 7)
	dead, _ := c.Enqueue(ctx, "r", -1, tasks.MaxAttempts(1))
	wait(t, c, id)
	wait(t, c, dead)
	if v, err := tasks.ResultAs[int](ctx, c, id); err != nil || v != 7 {
		t.Fatalf("result %d, %v", v, err)
	}
	short := e.client(tasks.WithResultRetention(time.Second), tasks.WithDeadRetention(time.Hour))
	eventually(t, "the result expires after the 1 s retention", func() bool {
		_, err := short.Result(ctx, id)
		return errors.Is(err, tasks.ErrNotFound)
	})
	n, err := short.Clean(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Clean = %d, %v; want 1 (the completed task; dead kept)", n, err)
	}
	if _, err := c.Get(ctx, id); !errors.Is(err, tasks.ErrNotFound) {
		t.Fatalf("cleaned task still there: %v", err)
	}
	if in, err := c.Get(ctx, dead); err != nil || in.State != tasks.StateDead || len(in.Errors) != 1 {
		t.Fatalf("dead task must be kept: %+v, %v", in, err)
	}
	// The cleaner also runs by itself.
	c2 := e.client(tasks.WithDeadRetention(time.Millisecond), tasks.WithCleanInterval(100*time.Millisecond), tasks.WithQueue("idle", 1))
	start(t, c2)
	eventually(t, "cleaner removes the dead task", func() bool {
		_, err := c.Get(ctx, dead)
		return errors.Is(err, tasks.ErrNotFound)
	})
}

func testHeartbeat(t *testing.T, e *env) {
	// Lease 600 ms (stretched for the machine's load, so that a renewal
	// can be late by most of a lease); the task runs three leases.
	// Without the heartbeat a second client would rescue and re-run it.
	lease := testenv.Scaled(600 * time.Millisecond)
	opts := []tasks.Option{tasks.WithLease(lease)}
	var runs atomic.Int64
	h := func(ctx context.Context, tk *tasks.Task[int]) error {
		runs.Add(1)
		time.Sleep(3 * lease)
		return nil
	}
	c1 := e.client(opts...)
	tasks.Register(c1, "hb", h)
	c2 := e.client(opts...)
	tasks.Register(c2, "hb", h)
	id, _ := c1.Enqueue(context.Background(), "hb", 1)
	start(t, c1)
	start(t, c2)
	in := wait(t, c1, id)
	if in.State != tasks.StateCompleted || in.Attempt != 1 || runs.Load() != 1 {
		t.Fatalf("state %s attempt %d runs %d; want one run", in.State, in.Attempt, runs.Load())
	}
}

func testStopFinishes(t *testing.T, e *env) {
	c := e.client()
	started := make(chan struct{}, 1)
	tasks.Register(c, "s", func(ctx context.Context, tk *tasks.Task[int]) error {
		started <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		return ctx.Err()
	})
	start(t, c)
	id, _ := c.Enqueue(context.Background(), "s", 1)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	in, err := c.Get(context.Background(), id)
	if err != nil || in.State != tasks.StateCompleted {
		t.Fatalf("after graceful stop: %+v, %v (the in-flight task must finish and be recorded)", in, err)
	}
	if err := c.Start(context.Background()); !errors.Is(err, tasks.ErrClosed) {
		t.Fatalf("Start after Stop: %v", err)
	}
}

func testStopReleases(t *testing.T, e *env) {
	c := e.client()
	started := make(chan struct{}, 1)
	tasks.Register(c, "stuck", func(ctx context.Context, tk *tasks.Task[int]) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	start(t, c)
	id, _ := c.Enqueue(context.Background(), "stuck", 1)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop past deadline: %v", err)
	}
	in, err := c.Get(context.Background(), id)
	if err != nil || in.State != tasks.StateAvailable || in.Attempt != 0 {
		t.Fatalf("released task: %+v, %v; want available, attempt 0", in, err)
	}
	// Another worker picks it up at once (no lease wait).
	c2 := e.client()
	tasks.Register(c2, "stuck", func(ctx context.Context, tk *tasks.Task[int]) error { return nil })
	start(t, c2)
	if in := wait(t, c2, id); in.State != tasks.StateCompleted || in.Attempt != 1 {
		t.Fatalf("re-run: %s attempt %d", in.State, in.Attempt)
	}
}

func testIntervalSchedule(t *testing.T, e *env) {
	c := e.client()
	var runs atomic.Int64
	var badTick atomic.Value
	tasks.Register(c, "tick", func(ctx context.Context, tk *tasks.Task[string]) error {
		if tk.Args != "payload" {
			return tasks.Cancel(fmt.Errorf("args %q", tk.Args))
		}
		// The task carries the (epoch-aligned) tick it was fired for.
		if tk.Tick.IsZero() || !tk.Tick.Equal(tk.Tick.Truncate(200*time.Millisecond)) || tk.Tick.After(time.Now()) {
			badTick.Store(tk.Tick)
		} else if in, err := c.Get(ctx, tk.ID); err != nil || !in.Tick.Equal(tk.Tick) {
			badTick.Store(tk.Tick)
		}
		runs.Add(1)
		return nil
	})
	if err := c.Schedule("every-200ms", "@every 200ms", "tick", "payload"); err != nil {
		t.Fatal(err)
	}
	if err := c.Schedule("every-200ms", "@every 1s", "tick", "payload"); !errors.Is(err, tasks.ErrInvalid) {
		t.Fatalf("duplicate schedule name: %v", err)
	}
	var cronRuns atomic.Int64
	tasks.Register(c, "cron", func(ctx context.Context, tk *tasks.Task[int]) error { cronRuns.Add(1); return nil })
	if err := c.Schedule("every-second", "* * * * * *", "cron", 1); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	eventually(t, "three interval ticks and a cron tick", func() bool { return runs.Load() >= 3 && cronRuns.Load() >= 1 })
	if v := badTick.Load(); v != nil {
		t.Fatalf("task of an @every 200ms schedule carries tick %v", v)
	}
	if in, err := c.Enqueue(context.Background(), "cron", 2); err != nil {
		t.Fatal(err)
	} else if info := wait(t, c, in); !info.Tick.IsZero() {
		t.Fatalf("task enqueued by hand carries tick %v", info.Tick)
	}
}

// onceAt fires one tick at t.
type onceAt time.Time

func (o onceAt) Next(t time.Time) time.Time {
	if t.Before(time.Time(o)) {
		return time.Time(o)
	}
	return time.Time(o).Add(1000 * time.Hour)
}

func testScheduleOnceClients(t *testing.T, e *env) {
	var cs []*tasks.Client
	for i := 0; i < 3; i++ {
		cs = append(cs, e.client(tasks.WithQueue("unused", 1)))
	}
	// The tick is set once the clients exist (migrations can be slow), so
	// every scheduler is running before it.
	tick := time.Now().Add(500 * time.Millisecond)
	for i, c := range cs {
		if err := c.ScheduleSpec("report", onceAt(tick), "report", i, tasks.Queue("reports")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		start(t, c)
	}
	time.Sleep(time.Until(tick) + 700*time.Millisecond) // the others' chance to fire it twice
	waitFired(t, cs[0])
	assertFiredOnce(t, cs[0])
	// The interval schedule too: ticks are aligned, so clients agree.
	var cs2 []*tasks.Client
	for i := 0; i < 3; i++ {
		c := e.client(tasks.WithQueue("unused", 1))
		if err := c.ScheduleSpec("aligned", tasks.Every(300*time.Millisecond), "aligned", i, tasks.Queue("aligned")); err != nil {
			t.Fatal(err)
		}
		cs2 = append(cs2, c)
	}
	t0 := time.Now()
	for _, c := range cs2 {
		start(t, c)
	}
	time.Sleep(1 * time.Second)
	eventually(t, "the aligned schedule to fire", func() bool {
		list, err := cs2[0].List(context.Background(), tasks.ListParams{Queue: "aligned"})
		return err == nil && len(list) > 0
	})
	for _, c := range cs2 {
		_ = c.Stop(context.Background())
	}
	elapsed := time.Since(t0)
	list, _ := cs2[0].List(context.Background(), tasks.ListParams{Queue: "aligned"})
	maxTicks := int(elapsed/(300*time.Millisecond)) + 1
	if len(list) == 0 || len(list) > maxTicks {
		t.Fatalf("interval schedule on 3 clients fired %d times in %v (at most %d ticks)", len(list), elapsed, maxTicks)
	}
}

// waitFired waits until the "report" schedule's task exists (a loaded
// machine may run the schedulers late).
func waitFired(t *testing.T, c *tasks.Client) {
	t.Helper()
	eventually(t, "the report schedule to fire", func() bool {
		list, err := c.List(context.Background(), tasks.ListParams{Queue: "reports"})
		return err == nil && len(list) > 0
	})
}

func assertFiredOnce(t *testing.T, c *tasks.Client) {
	t.Helper()
	list, err := c.List(context.Background(), tasks.ListParams{Queue: "reports"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Type != "report" {
		t.Fatalf("one tick on three schedulers fired %d times: %+v", len(list), list)
	}
}

func testThousand(t *testing.T, e *env) {
	c := e.client(tasks.WithQueue("default", 20))
	var mu sync.Mutex
	seen := map[int]int{}
	tasks.Register(c, "n", func(ctx context.Context, tk *tasks.Task[int]) error {
		mu.Lock()
		seen[tk.Args]++
		mu.Unlock()
		return nil
	})
	items := make([]tasks.Item, 1000)
	for i := range items {
		items[i] = tasks.Item{Type: "n", Args: i}
	}
	ctx := context.Background()
	if _, err := c.EnqueueMany(ctx, items); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	if e.h.Disrupt != nil {
		eventually(t, "some progress", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 200 })
		e.h.Disrupt(t)
	}
	deadline := time.Now().Add(testenv.Scaled(60 * time.Second))
	for {
		qs, err := c.Queues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) == 1 && qs[0].Counts[tasks.StateCompleted] == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all 1000 completed: %+v", qs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1000 {
		t.Fatalf("%d distinct tasks ran", len(seen))
	}
}
