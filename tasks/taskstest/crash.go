package taskstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/repokit/repokit/tasks"
)

// crashRun makes task id look like a run whose worker died at once: claimed
// (running, one more run) with a lease that expired long ago (its run_at, a
// time in the past in the dialect's own column type).
func (e *env) crashRun(t *testing.T, id int64) {
	t.Helper()
	res, err := e.db.Exec(e.db.Rebind("UPDATE tasks_jobs SET state = 'running', attempt = attempt + 1, lease_until = run_at WHERE id = ? AND state IN ('available', 'retryable')"), id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("crash task %d: %d rows", id, n)
	}
}

func testCrashes(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.client()
	type seen struct{ attempt, crashes int }
	var mu sync.Mutex
	runs := map[string][]seen{}
	tasks.Register(c, "crashy", func(ctx context.Context, tk *tasks.Task[string]) error {
		mu.Lock()
		runs[tk.Args] = append(runs[tk.Args], seen{tk.Attempt, tk.Crashes})
		mu.Unlock()
		if tk.Args == "fails" {
			return errors.New("handler failed")
		}
		return nil
	})
	// A crash does not use the only attempt: the task runs again, as
	// attempt 1, and completes with no current error but the crash in
	// its history.
	once, err := c.Enqueue(ctx, "crashy", "once", tasks.MaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	// Crashes have their own bound: the first crash of a MaxCrashes(1)
	// task makes it dead, with the crash as its error.
	bounded, _ := c.Enqueue(ctx, "crashy", "bounded", tasks.MaxAttempts(5), tasks.MaxCrashes(1))
	// A crash then a handler failure: two history entries, dead after its
	// one handler attempt.
	fails, _ := c.Enqueue(ctx, "crashy", "fails", tasks.MaxAttempts(1))
	for _, id := range []int64{once, bounded, fails} {
		e.crashRun(t, id)
	}
	start(t, c)

	in := wait(t, c, once)
	full, err := c.Get(ctx, once)
	if err != nil {
		t.Fatal(err)
	}
	if in.State != tasks.StateCompleted || full.Attempt != 1 || full.Crashes != 1 || full.LastError != "" ||
		len(full.Errors) != 1 || !full.Errors[0].Crash || full.Errors[0].Attempt != 1 || !strings.Contains(full.Errors[0].Error, "lease expired") {
		t.Fatalf("after a crash: %s attempt %d crashes %d last %q errors %+v", full.State, full.Attempt, full.Crashes, full.LastError, full.Errors)
	}

	wait(t, c, bounded)
	full, _ = c.Get(ctx, bounded)
	if full.State != tasks.StateDead || full.Crashes != 1 || full.MaxCrashes != 1 || !strings.Contains(full.LastError, "lease expired") ||
		len(full.Errors) != 1 || !full.Errors[0].Crash {
		t.Fatalf("MaxCrashes(1) after a crash: %s crashes %d/%d last %q errors %+v", full.State, full.Crashes, full.MaxCrashes, full.LastError, full.Errors)
	}

	wait(t, c, fails)
	full, _ = c.Get(ctx, fails)
	if full.State != tasks.StateDead || full.Attempt != 1 || full.Crashes != 1 || full.LastError != "handler failed" ||
		len(full.Errors) != 2 || !full.Errors[0].Crash || full.Errors[1].Crash || full.Errors[1].Attempt != 1 || full.Errors[1].Error != "handler failed" {
		t.Fatalf("crash then failure: %s attempt %d crashes %d last %q errors %+v", full.State, full.Attempt, full.Crashes, full.LastError, full.Errors)
	}

	mu.Lock()
	got := fmt.Sprint(runs)
	ok := len(runs["bounded"]) == 0 && len(runs["once"]) == 1 && runs["once"][0] == (seen{1, 1}) && len(runs["fails"]) == 1 && runs["fails"][0] == (seen{1, 1})
	mu.Unlock()
	if !ok {
		t.Fatalf("handler runs (attempt, crashes) %s", got)
	}

	// A manual retry of a dead task starts fresh: no crashes counted.
	if err := c.Retry(ctx, bounded); err != nil {
		t.Fatal(err)
	}
	if in := wait(t, c, bounded); in.State != tasks.StateCompleted || in.Attempt != 1 || in.Crashes != 0 {
		t.Fatalf("retried: %s attempt %d crashes %d", in.State, in.Attempt, in.Crashes)
	}
	if _, err := c.Enqueue(ctx, "crashy", "x", tasks.MaxCrashes(0)); !errors.Is(err, tasks.ErrInvalid) {
		t.Fatalf("MaxCrashes(0): %v", err)
	}
}
