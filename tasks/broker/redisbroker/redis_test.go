package redisbroker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache/redisdriver"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
	"github.com/repokit/repokit/tasks/broker/redisbroker"
	"github.com/repokit/repokit/tasks/taskstest"
)

const redisEnv = "REPOKIT_TEST_REDIS_URL"

func rawClient(t testing.TB, raw string) redis.UniversalClient {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, k := range []string{"prefix", "group", "lease", "block"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	rdb, err := redisdriver.NewClient(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// dropPrefix deletes every key of a test's prefix.
func dropPrefix(t testing.TB, rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+":*", 100).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func randName() string { return fmt.Sprintf("rk%d", time.Now().UnixNano()%1e9) }

func TestConformance(t *testing.T) {
	base := sqldbtest.ServiceURL(t, redisEnv)
	// Connections of this test carry one client name, so Disrupt kills
	// them and no one else's on the shared server.
	name := "repokit-tasks-test-" + randName()
	h := taskstest.Harness{
		BrokerURL: base + "?lease=" + testenv.Scaled(5*time.Second).Truncate(time.Second).String() + "&client_name=" + name,
		NameParam: "prefix",
		Unordered: true,
		Disrupt: func(t *testing.T) {
			rdb := rawClient(t, base)
			ctx := context.Background()
			list, err := rdb.ClientList(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			killed := 0
			for _, line := range strings.Split(list, "\n") {
				if !strings.Contains(line, " name="+name+" ") {
					continue
				}
				for _, f := range strings.Fields(line) {
					if id, ok := strings.CutPrefix(f, "id="); ok {
						if rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err() == nil {
							killed++
						}
					}
				}
			}
			if killed == 0 {
				t.Fatalf("no broker connection named %s to kill", name)
			}
		},
		AfterTest: func(t *testing.T, brokerURL string) {
			u, err := url.Parse(brokerURL)
			if err != nil {
				return
			}
			dropPrefix(t, rawClient(t, base), u.Query().Get("prefix"))
		},
	}
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		h.Dialect = string(d)
		taskstest.Run(t, h)
	})
}

func TestOpenRejectsBadURL(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{
		"redis://127.0.0.1:6379/0?lease=soon",
		"redis://127.0.0.1:6379/0?lease=1ms",
		"redis://127.0.0.1:6379/0?block=-1s",
		"redis://h1:1,h2:2/0",
		"redis://127.0.0.1:6379/0?nonsense=1",
	} {
		b, err := tasks.OpenBroker(ctx, raw)
		if err == nil {
			b.Close()
			t.Errorf("OpenBroker(%q) accepted", raw)
		} else if !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("OpenBroker(%q): %v, want ErrInvalid", raw, err)
		}
	}
	for _, raw := range []string{"rediss://127.0.0.1:1/0", "redis+cluster://127.0.0.1:1,127.0.0.1:2", "redis+sentinel://127.0.0.1:1/0?master_name=m"} {
		b, err := tasks.OpenBroker(ctx, raw)
		if err != nil {
			t.Errorf("OpenBroker(%q): %v", raw, err)
			continue
		}
		b.Close()
	}
}

func open(t testing.TB, raw string) *redisbroker.Broker {
	t.Helper()
	b, err := tasks.OpenBroker(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*redisbroker.Broker)
}

func testURL(t testing.TB, base, prefix, params string) string {
	t.Cleanup(func() { dropPrefix(t, rawClient(t, base), prefix) })
	return base + "?prefix=" + prefix + "&" + params
}

// A Nack hands the message back at once, not after the lease.
func TestNackRedeliversBeforeLease(t *testing.T) {
	base := sqldbtest.ServiceURL(t, redisEnv)
	b := open(t, testURL(t, base, randName(), "lease=60s"))
	ctx := context.Background()
	s := brokertest.Subscribe(t, b, "q", 4)
	if err := b.Publish(ctx, "q", []int64{7}); err != nil {
		t.Fatal(err)
	}
	d, ok := brokertest.Receive(t, s, 20*time.Second)
	if !ok || d.TaskID() != 7 {
		t.Fatalf("first delivery: %v %v", d, ok)
	}
	d.Nack()
	d2, ok := brokertest.Receive(t, s, 20*time.Second)
	if !ok || d2.TaskID() != 7 {
		t.Fatalf("no redelivery after Nack within 20s (lease is 60s)")
	}
	d2.Ack()
	// Acked: gone from the stream and from the pending list.
	rdb := b.Client()
	brokertest.Eventually(t, "entry deleted and acknowledged", func() bool {
		n, err1 := rdb.XLen(ctx, b.Stream("q")).Result()
		p, err2 := rdb.XPending(ctx, b.Stream("q"), b.Group()).Result()
		return err1 == nil && err2 == nil && n == 0 && p.Count == 0
	})
}

// Environment of this package's helper child process.
const (
	helperEnv    = "REDISBROKER_HELPER_URL"
	helperLength = 1
)

// TestHelperProcess is both the tasks suite's child (worker, scheduler) and
// this package's consumer child: it receives one message, prints its task
// id and holds it until killed.
func TestHelperProcess(t *testing.T) {
	if raw := os.Getenv(helperEnv); raw != "" {
		ctx := context.Background()
		b, err := tasks.OpenBroker(ctx, raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		s, err := b.Subscribe(ctx, "q", helperLength)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		fmt.Println("ready")
		d, err := s.Receive(ctx)
		if err != nil {
			os.Exit(2)
		}
		fmt.Println(d.TaskID())
		time.Sleep(time.Hour) // killed holding the message
		os.Exit(3)
	}
	taskstest.HelperProcess(t)
}

// A consumer process killed while holding a message: its lease is kept
// while it lives, and the message is claimed by another consumer once the
// lease ran out after its death.
func TestKilledConsumerMessageReclaimed(t *testing.T) {
	base := sqldbtest.ServiceURL(t, redisEnv)
	// The child extends its lease every third of it: a lease stretched
	// for the machine's load keeps a stalled child from losing it.
	lease := testenv.Scaled(2 * time.Second).Truncate(time.Second)
	raw := testURL(t, base, randName(), "lease="+lease.String())
	b := open(t, raw)
	ctx := context.Background()
	child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	child.Env = append(os.Environ(), helperEnv+"="+raw)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("child: %q %v", lines.Text(), lines.Err())
	}
	if err := b.Publish(ctx, "q", []int64{42}); err != nil {
		t.Fatal(err)
	}
	if !lines.Scan() || lines.Text() != "42" {
		t.Fatalf("child received %q %v", lines.Text(), lines.Err())
	}
	// While the child lives it extends its lease: another consumer gets
	// nothing for 2.5 leases.
	s := brokertest.Subscribe(t, b, "q", 4)
	if d, ok := brokertest.Quiet(t, s, lease*5/2); ok {
		t.Fatalf("message %d taken from a live consumer", d.TaskID())
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	d, ok := brokertest.Receive(t, s, 30*time.Second)
	if !ok || d.TaskID() != 42 {
		t.Fatalf("message of the killed consumer not reclaimed")
	}
	d.Ack()
}

// A Redis server with AOF (appendfsync always) killed with SIGKILL and
// restarted keeps every published message not yet acknowledged, whether
// never delivered or delivered to a consumer that died, and forgets none
// and resurrects none of the acknowledged ones.
func TestServerRestartKeepsUnfinished(t *testing.T) {
	srv := newServer(t)
	raw := serverURL(srv) + "?lease=500ms"
	b := open(t, raw)
	ctx := context.Background()
	ids := make([]int64, 100)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	rdb := b.Client()
	key := b.Stream("q")
	// The group exists before publishing (a subscriber did start).
	if err := rdb.XGroupCreateMkStream(ctx, key, b.Group(), "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "q", ids); err != nil {
		t.Fatal(err)
	}
	// A consumer that will die takes 60 and acknowledges the first 30.
	res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: b.Group(), Consumer: "doomed", Streams: []string{key, ">"}, Count: 60, Block: -1}).Result()
	if err != nil || len(res) != 1 || len(res[0].Messages) != 60 {
		t.Fatalf("XREADGROUP: %v %v", res, err)
	}
	acked := map[int64]bool{}
	for _, m := range res[0].Messages[:30] {
		if err := rdb.XAck(ctx, key, b.Group(), m.ID).Err(); err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.ParseInt(m.Values["id"].(string), 10, 64)
		acked[id] = true
	}
	srv.Kill()
	srv.Start()
	s := brokertest.Subscribe(t, b, "q", 16)
	got := map[int64]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < 70 {
		if time.Now().After(deadline) {
			t.Fatalf("after restart %d of 70 unfinished messages delivered", len(got))
		}
		d, ok := brokertest.Receive(t, s, time.Second)
		if !ok {
			continue
		}
		if acked[d.TaskID()] {
			t.Fatalf("acknowledged message %d delivered again after restart", d.TaskID())
		}
		got[d.TaskID()] = true
		d.Ack()
	}
	for id := int64(31); id <= 100; id++ {
		if !got[id] {
			t.Fatalf("message %d lost", id)
		}
	}
}

// A Redis outage during a run (server killed and restarted): workers
// resume, every task completes, none runs twice at the same time.
func TestOutageDuringRun(t *testing.T) {
	srv := newServer(t)
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	brokertest.RunOutage(t, db, serverURL(srv)+"?lease=3s", srv.Kill, srv.Start)
}
