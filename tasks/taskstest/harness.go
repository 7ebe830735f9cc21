// Package taskstest is the conformance suite every tasks store and broker
// combination runs: the SQL store on SQLite, PostgreSQL and MySQL, and each
// message broker driver on top of it.
//
// A driver's test calls Run with a Harness; for the kill test its test
// binary also needs
//
//	func TestHelperProcess(t *testing.T) { taskstest.HelperProcess(t) }
package taskstest

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
)

// Harness describes one store/broker combination.
type Harness struct {
	// Dialect of the SQL store: "sqlite" (or ""), "postgres" or "mysql";
	// each test gets a fresh database (on the server named by
	// REPOKIT_TEST_POSTGRES_URL or REPOKIT_TEST_MYSQL_URL, skipped if unset).
	Dialect string
	// BrokerURL, when not empty, makes every client deliver through the
	// broker opened from this URL (its driver must be imported by the test
	// binary). Each test gets its own names: the suite appends them with
	// NameParam.
	BrokerURL string
	// NameParam is the URL query parameter that isolates a test's broker
	// names (e.g. "prefix"); required with BrokerURL.
	NameParam string
	// Disrupt, if set, breaks the broker's connections mid-run (the
	// 1,000-task resilience test calls it once).
	Disrupt func(t *testing.T)
	// Unordered: the broker does not keep the relay's priority order, so
	// the priority ordering test is skipped (SQL delivery keeps it).
	Unordered bool
	// AfterTest, if set, runs at the end of each test with the test's
	// broker URL (to delete its queues or streams).
	AfterTest func(t *testing.T, brokerURL string)
	// ClientOptions, if set, are added to every suite client's options
	// (e.g. a longer WithRedeliver for a slow emulator).
	ClientOptions []tasks.Option
}

// env is one test's database (and broker names).
type env struct {
	t         *testing.T
	h         Harness
	db        *sqlx.DB
	dbURL     string
	brokerURL string
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	d := sqldb.Dialect(h.Dialect)
	if d == "" {
		d = sqldb.SQLite
	}
	u := sqldbtest.FreshURL(t, d)
	db, err := sqldb.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	if d != sqldb.SQLite {
		db.SetMaxOpenConns(32)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, h: h, db: db, dbURL: u}
	if h.BrokerURL != "" {
		e.brokerURL = withParam(h.BrokerURL, h.NameParam, "rk"+randHex(5))
		if h.AfterTest != nil {
			t.Cleanup(func() { h.AfterTest(t, e.brokerURL) })
		}
	}
	return e
}

// fast are the options every suite client gets: short leases and polls.
// The lease is stretched for the machine's load: a worker that cannot
// renew it in time loses its task to a rescue by design (at-least-once),
// which on a saturated machine would make tests that count runs fail for
// the load, not for a bug.
func (e *env) fast() []tasks.Option {
	o := []tasks.Option{
		tasks.WithLease(testenv.Scaled(time.Second)),
		tasks.WithPollInterval(50 * time.Millisecond),
		tasks.WithRetryPolicy(tasks.RetryPolicyFunc(func(int, error) time.Duration { return 20 * time.Millisecond })),
		tasks.WithLogger(quietLogger()),
	}
	if e.brokerURL != "" {
		o = append(o, tasks.WithBrokerURL(e.brokerURL))
	}
	return append(o, e.h.ClientOptions...)
}

// client returns a client on the env's database; it is stopped at cleanup.
func (e *env) client(opts ...tasks.Option) *tasks.Client {
	e.t.Helper()
	c, err := tasks.New(context.Background(), e.db, append(e.fast(), opts...)...)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

func start(t *testing.T, c *tasks.Client) {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// wait polls task id until it is final, failing after 20 s stretched for
// the machine's load (testenv.Scaled).
func wait(t *testing.T, c *tasks.Client, id int64) *tasks.Info {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(20*time.Second))
	defer cancel()
	in, err := c.Wait(ctx, id)
	if in == nil {
		t.Fatalf("Wait(%d): %v", id, err)
	}
	return in
}

// eventually polls cond every 20 ms for up to 20 s stretched for the
// machine's load.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Within(t, 20*time.Second, what, cond)
}
