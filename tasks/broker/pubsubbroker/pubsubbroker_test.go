package pubsubbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
	_ "github.com/repokit/repokit/tasks/broker/pubsubbroker"
	"github.com/repokit/repokit/tasks/taskstest"
)

// TestMem runs the suite through the in-process broker on SQLite; the SQL
// dialects themselves are covered by the tasks package and by TestRabbit
// (REPOKIT_TASKS_FULL_MATRIX=1 runs mem on every dialect too).
func TestMem(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		if d != sqldb.SQLite && os.Getenv("REPOKIT_TASKS_FULL_MATRIX") != "1" {
			t.Skip("mem broker runs on SQLite only unless REPOKIT_TASKS_FULL_MATRIX=1")
		}
		taskstest.Run(t, taskstest.Harness{Dialect: string(d), BrokerURL: "mem://tasks?ackdeadline=5s", NameParam: "prefix", Unordered: true})
	})
}

func TestRabbit(t *testing.T) {
	base := sqldbtest.ServiceURL(t, "REPOKIT_TEST_RABBIT_URL")
	vhost := testVhost(t, base)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "rabbit"
	u.Path = "/" + vhost
	h := taskstest.Harness{
		BrokerURL: u.String(),
		NameParam: "prefix",
		Unordered: true,
		Disrupt: func(t *testing.T) {
			rabbitctl(t, "close_all_connections", "-p", vhost, "repokit tasks test: broker outage")
		},
	}
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		h.Dialect = string(d)
		taskstest.Run(t, h)
	})
}

// testVhost creates a RabbitMQ vhost for this test run (deleted at the
// end, with every queue and exchange in it) so that closing its
// connections disturbs nobody else.
func testVhost(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	vhost := "repokit-tasks-" + hex.EncodeToString(b)
	user := "guest"
	if u, err := url.Parse(base); err == nil && u.User != nil {
		user = u.User.Username()
	}
	rabbitctl(t, "add_vhost", vhost)
	t.Cleanup(func() { rabbitctl(t, "delete_vhost", vhost) })
	rabbitctl(t, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
	return vhost
}

func rabbitctl(t testing.TB, args ...string) {
	t.Helper()
	bin := testenv.Binary(t, "rabbitmqctl") // to create a vhost and close connections
	out, err := exec.CommandContext(context.Background(), bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestHelperProcess(t *testing.T) { taskstest.HelperProcess(t) }
