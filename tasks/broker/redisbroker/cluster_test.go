package redisbroker_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
)

// TestCluster delivers through a redis+cluster:// URL on a throwaway
// three-node Redis Cluster: queues on different slots, lease-extension and
// nack scripts routed by the stream key, XACK+XDEL in one MULTI.
func TestCluster(t *testing.T) {
	sqldbtest.ServiceURL(t, redisEnv) // Redis is part of this environment
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		t.Skip("redis-server/redis-cli not installed")
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
		brokertest.Eventually(t, "node "+a, func() bool {
			c := redis.NewClient(&redis.Options{Addr: a})
			defer c.Close()
			return c.Ping(ctx).Err() == nil
		})
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		brokertest.Eventually(t, "cluster ready on "+a, func() bool {
			c := redis.NewClient(&redis.Options{Addr: a})
			defer c.Close()
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
	}
	b := open(t, "redis+cluster://"+strings.Join(addrs, ",")+"?timeout=2s&lease=1s")
	queues := []string{"alpha", "beta", "gamma", "delta"}
	for qi, q := range queues {
		s := brokertest.Subscribe(t, b, q, 8)
		ids := make([]int64, 20)
		for i := range ids {
			ids[i] = int64(qi*100 + i)
		}
		if err := b.Publish(ctx, q, ids); err != nil {
			t.Fatal(err)
		}
		got := map[int64]int{}
		nacked := false
		for len(got) < len(ids) {
			d, ok := brokertest.Receive(t, s, 20*time.Second)
			if !ok {
				t.Fatalf("queue %s: %d of %d delivered", q, len(got), len(ids))
			}
			if !nacked {
				nacked = true
				d.Nack()
				continue
			}
			got[d.TaskID()]++
			d.Ack()
		}
		brokertest.Eventually(t, "queue "+q+" drained", func() bool {
			n, err1 := b.Client().XLen(ctx, b.Stream(q)).Result()
			p, err2 := b.Client().XPending(ctx, b.Stream(q), b.Group()).Result()
			return err1 == nil && err2 == nil && n == 0 && p.Count == 0
		})
	}
}
