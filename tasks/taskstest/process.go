package taskstest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
)

// Environment of helper child processes.
const (
	helperRoleEnv   = "REPOKIT_TASKS_HELPER"
	helperDBEnv     = "REPOKIT_TASKS_HELPER_DB"
	helperBrokerEnv = "REPOKIT_TASKS_HELPER_BROKER"
	helperTickEnv   = "REPOKIT_TASKS_HELPER_TICK"
)

// HelperProcess plays a child process's role (a worker to be killed, or a
// scheduler) when the test binary is re-executed by the suite; in a normal
// test run it returns at once. Call it from TestHelperProcess.
func HelperProcess(t *testing.T) {
	role := os.Getenv(helperRoleEnv)
	if role == "" {
		return
	}
	ctx := context.Background()
	db, err := sqldb.Open(ctx, os.Getenv(helperDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: open db:", err)
		os.Exit(2)
	}
	opts := []tasks.Option{
		tasks.WithLease(time.Second), tasks.WithPollInterval(50 * time.Millisecond), tasks.WithLogger(quietLogger()),
	}
	if b := os.Getenv(helperBrokerEnv); b != "" {
		opts = append(opts, tasks.WithBrokerURL(b))
	}
	switch role {
	case "worker":
		c, err := tasks.New(ctx, db, opts...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		tasks.Register(c, "victim", func(ctx context.Context, tk *tasks.Task[int]) error {
			time.Sleep(time.Hour) // killed mid-task
			return nil
		})
		if err := c.Start(ctx); err != nil {
			os.Exit(2)
		}
		time.Sleep(time.Minute)
		os.Exit(3) // never reached: the parent kills us
	case "scheduler":
		// Get ready (database open and migrated), say so, then wait for
		// the tick from the parent so that a slow start cannot miss it.
		if err := tasks.Migrate(ctx, db); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		// Open the client before saying ready, so that only ScheduleSpec and
		// Start remain between reading the tick and the tick itself.
		c, err := tasks.New(ctx, db, append(opts, tasks.WithQueue("unused", 1))...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		fmt.Println("ready")
		var us int64
		if _, err := fmt.Fscanln(os.Stdin, &us); err != nil {
			fmt.Fprintln(os.Stderr, "helper: read tick:", err)
			os.Exit(2)
		}
		tick := time.UnixMicro(us)
		if err := c.ScheduleSpec("report", onceAt(tick), "report", os.Getpid(), tasks.Queue("reports")); err != nil {
			os.Exit(2)
		}
		if err := c.Start(ctx); err != nil {
			os.Exit(2)
		}
		// Stay until the tick has fired (here or in a sibling), so that a
		// loaded machine running the schedulers late cannot end the test
		// with no fire at all; then give the others time to (wrongly) fire
		// it again.
		time.Sleep(time.Until(tick))
		for deadline := time.Now().Add(testenv.Scaled(30 * time.Second)); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if l, err := c.List(ctx, tasks.ListParams{Queue: "reports"}); err == nil && len(l) > 0 {
				break
			}
		}
		time.Sleep(700 * time.Millisecond)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = c.Stop(sctx)
		cancel()
		os.Exit(0)
	}
	os.Exit(4)
}

func (e *env) helper(role string, extra ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperRoleEnv+"="+role, helperDBEnv+"="+e.dbURL, helperBrokerEnv+"="+e.brokerURL)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stderr = os.Stderr
	return cmd
}

func testKillWorker(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.client()
	id, err := c.Enqueue(ctx, "victim", 42)
	if err != nil {
		t.Fatal(err)
	}
	child := e.helper("worker")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	eventually(t, "child running the task", func() bool {
		in, err := c.Get(ctx, id)
		return err == nil && in.State == tasks.StateRunning
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	ran := make(chan int, 1)
	tasks.Register(c, "victim", func(ctx context.Context, tk *tasks.Task[int]) error {
		ran <- tk.Attempt
		return nil
	})
	start(t, c)
	wait(t, c, id)
	// The crash used no attempt (the re-run is attempt 1 again), is
	// counted apart and is in the history, not the current state.
	in, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if in.State != tasks.StateCompleted || in.Attempt != 1 || in.Crashes != 1 || in.LastError != "" {
		t.Fatalf("after SIGKILL: %s attempt %d crashes %d (%q)", in.State, in.Attempt, in.Crashes, in.LastError)
	}
	if len(in.Errors) != 1 || !in.Errors[0].Crash || in.Errors[0].Attempt != 1 {
		t.Fatalf("after SIGKILL: error history %+v, want the crash of attempt 1", in.Errors)
	}
	if a := <-ran; a != 1 {
		t.Fatalf("re-run attempt %d, want 1 (a crash is not the handler's failure)", a)
	}
}

func testScheduleOnceProcesses(t *testing.T, e *env) {
	// Migrate first so the children do not all race to create tables.
	c := e.client(tasks.WithQueue("unused", 1))
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
	}
	var children []child
	for i := 0; i < 3; i++ {
		cmd := e.helper("scheduler")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			t.Fatalf("scheduler process %d: %q, %v", i, line, err)
		}
		children = append(children, child{cmd, stdin})
	}
	// A scheduler that starts after its tick never fires it (missed ticks
	// are not caught up), so leave the children a margin for a loaded
	// machine: they only have to register the schedule and start.
	tick := time.Now().Add(3 * time.Second)
	for _, ch := range children {
		fmt.Fprintln(ch.stdin, tick.UnixMicro())
	}
	for i, ch := range children {
		if err := ch.cmd.Wait(); err != nil {
			t.Fatalf("scheduler process %d: %v", i, err)
		}
	}
	assertFiredOnce(t, c)
}
