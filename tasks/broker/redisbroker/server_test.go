package redisbroker_test

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
)

// newServer starts a throwaway redis-server with AOF on (appendfsync
// always), on a free port with its own directory, that a test kills and
// restarts. Without redis-server the test is skipped (failed under
// REPOKIT_TEST_REQUIRE_SERVICES=1).
func newServer(t testing.TB) *brokertest.Server {
	t.Helper()
	bin := testenv.Binary(t, "redis-server")
	dir := t.TempDir()
	return brokertest.StartServer(t, "redis-server", func(port int) *exec.Cmd {
		return exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port),
			"--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
			"--logfile", "redis.log")
	})
}

func serverURL(s *brokertest.Server) string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }
