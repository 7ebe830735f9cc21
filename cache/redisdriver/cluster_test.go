package redisdriver_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
)

// TestClusterConformance builds a throwaway three-node Redis Cluster from
// child redis-server processes and runs the whole conformance suite through
// a redis+cluster:// URL (cross-slot GetMulti, scripts routed by key). The
// outage tests are skipped: cluster nodes announce their real addresses, so
// a proxy cannot stand in for them.
func TestClusterConformance(t *testing.T) {
	sqldbtest.ServiceURL(t, envURL) // Redis is part of this environment
	t.Parallel()
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		testenv.Skip(t, "redis-server", "redis-server/redis-cli not installed; cluster URLs only parse-tested")
	}
	dir := t.TempDir()
	var addrs []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port), "--save", "", "--appendonly", "no", "--dir", dir)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	ctx := context.Background()
	for _, a := range addrs {
		waitFor(t, func() error {
			c := redis.NewClient(&redis.Options{Addr: a})
			defer c.Close()
			return c.Ping(ctx).Err()
		})
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		waitFor(t, func() error {
			c := redis.NewClient(&redis.Options{Addr: a})
			defer c.Close()
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("cluster not ready")
			}
			return nil
		})
	}
	raw := "redis+cluster://" + strings.Join(addrs, ",") + "?timeout=2s"
	drivertest.RunConformanceTests(t, drivertest.Harness{
		Open:   func(t *testing.T) driver.Driver { return openURL(t, raw) },
		MinTTL: 200 * time.Millisecond,
	})
}

func waitFor(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
