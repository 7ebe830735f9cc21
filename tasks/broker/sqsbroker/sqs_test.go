package sqsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
	"github.com/repokit/repokit/tasks/broker/sqsbroker"
	"github.com/repokit/repokit/tasks/taskstest"
)

const sqsEnv = "REPOKIT_TEST_SQS_URL"

func withParams(raw, params string) string {
	if strings.Contains(raw, "?") {
		return raw + "&" + params
	}
	return raw + "?" + params
}

func randName() string { return fmt.Sprintf("rk%d", time.Now().UnixNano()%1e9) }

func open(t testing.TB, raw string) *sqsbroker.Broker {
	t.Helper()
	b, err := tasks.OpenBroker(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*sqsbroker.Broker)
}

// dropQueues deletes the SQS queues of a prefix.
func dropQueues(t testing.TB, raw, prefix string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	b, err := tasks.OpenBroker(context.Background(), u.String())
	if err != nil {
		return
	}
	defer b.Close()
	c := b.(*sqsbroker.Broker).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(prefix + "-")})
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	for _, qu := range l.QueueUrls {
		_, _ = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(qu)})
	}
}

func TestConformance(t *testing.T) {
	base := sqldbtest.ServiceURL(t, sqsEnv)
	h := taskstest.Harness{
		BrokerURL: withParams(base, "lease="+testenv.Scaled(5*time.Second).Truncate(time.Second).String()),
		NameParam: "prefix",
		Unordered: true,
		// The suite's 1s lease would make the relay publish every task
		// not yet claimed again each second; goaws scans its whole queue
		// under one lock on every call, so on a loaded machine those
		// duplicates snowball. Real SQS and production leases (30s) do
		// not need this.
		ClientOptions: []tasks.Option{tasks.WithRedeliver(testenv.Scaled(5 * time.Second))},
		AfterTest: func(t *testing.T, brokerURL string) {
			u, err := url.Parse(brokerURL)
			if err == nil {
				dropQueues(t, base, u.Query().Get("prefix"))
			}
		},
	}
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		h.Dialect = string(d)
		taskstest.Run(t, h)
	})
}

func TestHelperProcess(t *testing.T) { taskstest.HelperProcess(t) }

func TestOpenRejectsBadURL(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{
		"sqs://queue-host?region=us-east-1",
		"sqs://?region=us-east-1&lease=500ms",
		"sqs://?region=us-east-1&lease=1500ms",
		"sqs://?region=us-east-1&lease=13h",
		"sqs://?region=us-east-1&waittime=30s",
		"sqs://?region=us-east-1&maxreceive=-1",
		"sqs://?region=us-east-1&protocol=xml",
		"sqs://?region=us-east-1&nonsense=1",
	} {
		b, err := tasks.OpenBroker(ctx, raw)
		if err == nil {
			b.Close()
			t.Errorf("OpenBroker(%q) accepted", raw)
		} else if !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("OpenBroker(%q): %v, want ErrInvalid", raw, err)
		}
	}
}

// servers are the SQS endpoints a behaviour test runs on: the fake always,
// goaws when REPOKIT_TEST_SQS_URL is set.
func servers(t *testing.T, fn func(t *testing.T, base string)) {
	t.Run("fake", func(t *testing.T) { fn(t, newFakeSQS(t).url("")) })
	t.Run("goaws", func(t *testing.T) {
		base := sqldbtest.ServiceURL(t, sqsEnv)
		prefix := randName()
		t.Cleanup(func() { dropQueues(t, base, prefix) })
		fn(t, withParams(base, "prefix="+prefix))
	})
}

// A held message stays invisible past its visibility timeout while the
// subscription holding it lives (lease extended), and is gone once acked.
func TestLeaseExtendedWhileHeld(t *testing.T) {
	servers(t, func(t *testing.T, base string) {
		ctx := context.Background()
		// lease 3s (stretched for the machine's load): extended every
		// third of it, so a stalled extender has two thirds of slack
		// before the message would wrongly reappear.
		lease := testenv.Scaled(3 * time.Second).Truncate(time.Second)
		params := "lease=" + lease.String() + "&maxreceive=0"
		b := open(t, withParams(base, params))
		holder := brokertest.Subscribe(t, b, "q", 1)
		if err := b.Publish(ctx, "q", []int64{5}); err != nil {
			t.Fatal(err)
		}
		d, ok := brokertest.Receive(t, holder, 20*time.Second)
		if !ok || d.TaskID() != 5 {
			t.Fatal("no delivery")
		}
		other := brokertest.Subscribe(t, open(t, withParams(base, params)), "q", 4)
		if d2, ok := brokertest.Quiet(t, other, 2*lease); ok { // two visibility timeouts
			t.Fatalf("message %d delivered twice while held (lease not extended)", d2.TaskID())
		}
		d.Ack()
		if d2, ok := brokertest.Quiet(t, other, lease); ok {
			t.Fatalf("acked message %d delivered again", d2.TaskID())
		}
	})
}

// A message received by a consumer that then died (no ack, no extension)
// is delivered again after the visibility timeout.
func TestAbandonedMessageRedelivered(t *testing.T) {
	servers(t, func(t *testing.T, base string) {
		ctx := context.Background()
		b := open(t, withParams(base, "lease=1s&maxreceive=0"))
		qu, err := b.QueueURL(ctx, "q")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, "q", []int64{9}); err != nil {
			t.Fatal(err)
		}
		out, err := b.Client().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qu), MaxNumberOfMessages: 1, WaitTimeSeconds: 5})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("dead consumer's receive: %v %v", out, err)
		}
		t0 := time.Now()
		s := brokertest.Subscribe(t, b, "q", 4)
		d, ok := brokertest.Receive(t, s, 20*time.Second)
		if !ok || d.TaskID() != 9 {
			t.Fatal("abandoned message not redelivered")
		}
		if time.Since(t0) < 500*time.Millisecond {
			t.Fatalf("redelivered after %v, before the visibility timeout", time.Since(t0))
		}
		d.Ack()
	})
}

// Nack hands a message back at once, not after the (long) lease.
func TestNackRedeliversAtOnce(t *testing.T) {
	servers(t, func(t *testing.T, base string) {
		ctx := context.Background()
		b := open(t, withParams(base, "lease=60s&maxreceive=0"))
		s := brokertest.Subscribe(t, b, "q", 4)
		if err := b.Publish(ctx, "q", []int64{3}); err != nil {
			t.Fatal(err)
		}
		d, ok := brokertest.Receive(t, s, 20*time.Second)
		if !ok {
			t.Fatal("no delivery")
		}
		d.Nack()
		d2, ok := brokertest.Receive(t, s, 20*time.Second)
		if !ok || d2.TaskID() != 3 {
			t.Fatal("nacked message not redelivered within 20s (lease 60s)")
		}
		d2.Ack()
	})
}

// After maxreceive receives a message goes to the dead-letter queue (SQS's
// rule, which goaws does not keep: tested on the fake).
func TestDeadLetterAfterMaxReceives(t *testing.T) {
	f := newFakeSQS(t)
	ctx := context.Background()
	b := open(t, f.url("lease=30s&maxreceive=2&prefix=dl"))
	s := brokertest.Subscribe(t, b, "jobs", 4)
	if err := b.Publish(ctx, "jobs", []int64{11}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		d, ok := brokertest.Receive(t, s, 20*time.Second)
		if !ok || d.TaskID() != 11 {
			t.Fatalf("receive %d: none", i+1)
		}
		d.Nack()
	}
	if d, ok := brokertest.Quiet(t, s, 2*time.Second); ok {
		t.Fatalf("message %d received a third time with maxreceive=2", d.TaskID())
	}
	if n := f.count("ChangeMessageVisibility"); n < 2 {
		t.Fatalf("%d ChangeMessageVisibility calls for 2 Nacks", n)
	}
	brokertest.Eventually(t, "message in the dead-letter queue", func() bool {
		got := f.bodies("dl-jobs-dlq")
		return len(got) == 1 && got[0] == "11"
	})
	if got := f.bodies("dl-jobs"); len(got) != 0 {
		t.Fatalf("queue still holds %v", got)
	}
	if p := f.attrs("dl-jobs")["RedrivePolicy"]; !strings.Contains(p, `"maxReceiveCount":"2"`) || !strings.Contains(p, ":dl-jobs-dlq") {
		t.Fatalf("redrive policy %q", p)
	}
	if v := f.attrs("dl-jobs")["VisibilityTimeout"]; v != "30" {
		t.Fatalf("visibility timeout %q, want 30", v)
	}
}

// newGoaws starts a throwaway goaws that the outage test kills and
// restarts. Without goaws the test is skipped (failed under
// REPOKIT_TEST_REQUIRE_SERVICES=1).
func newGoaws(t testing.TB) *brokertest.Server {
	t.Helper()
	bin := testenv.Binary(t, "goaws") // .ci/services/goaws.sh installs it
	conf := filepath.Join(t.TempDir(), "goaws.yaml")
	return brokertest.StartServer(t, "goaws", func(port int) *exec.Cmd {
		yaml := fmt.Sprintf("Local:\n  Host: 127.0.0.1\n  Port: %d\n  Region: us-east-1\n  AccountId: \"100010001000\"\n  QueueAttributeDefaults:\n    VisibilityTimeout: 30\n    ReceiveMessageWaitTimeSeconds: 0\n    MaximumMessageSize: 262144\n", port)
		if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return exec.Command(bin, "-config", conf, "Local")
	})
}

func goawsURL(s *brokertest.Server) string {
	return fmt.Sprintf("sqs://?endpoint=http://127.0.0.1:%d&region=us-east-1&anonymous=true&protocol=query", s.Port)
}

// An SQS outage during a run (goaws killed, which loses every message it
// held, and restarted): workers resume, every task completes, none runs
// twice at the same time.
func TestOutageDuringRun(t *testing.T) {
	g := newGoaws(t)
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	brokertest.RunOutage(t, db, withParams(goawsURL(g), "lease=3s"), g.Kill, g.Start)
}
