package redisbroker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
)

// TestSentinel delivers through a redis+sentinel:// URL: a throwaway
// Sentinel (redis-server --sentinel) watches a throwaway server.
func TestSentinel(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	sentinel := brokertest.StartServer(t, "redis sentinel", func(port int) *exec.Cmd {
		conf := filepath.Join(dir, "sentinel.conf")
		cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor rkmaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds rkmaster 60000\n", port, dir, srv.Port)
		if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", conf, "--sentinel")
		cmd.Dir = dir
		return cmd
	})
	sport := sentinel.Port
	b := open(t, fmt.Sprintf("redis+sentinel://127.0.0.1:%d/0?master_name=rkmaster&timeout=1s&lease=2s", sport))
	ctx := context.Background()
	var err2 error
	brokertest.Eventually(t, "publish through sentinel", func() bool {
		err2 = b.Publish(ctx, "q", []int64{1, 2, 3})
		return err2 == nil
	})
	s := brokertest.Subscribe(t, b, "q", 4)
	got := map[int64]bool{}
	for len(got) < 3 {
		d, ok := brokertest.Receive(t, s, 20*time.Second)
		if !ok {
			t.Fatalf("%d of 3 delivered through sentinel", len(got))
		}
		got[d.TaskID()] = true
		d.Ack()
	}
	brokertest.Eventually(t, "stream drained", func() bool {
		n, err := b.Client().XLen(ctx, b.Stream("q")).Result()
		return err == nil && n == 0
	})
}
