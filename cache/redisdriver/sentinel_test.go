package redisdriver_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
)

// TestSentinelURL starts a throwaway Redis Sentinel (redis-server
// --sentinel) watching the test server and opens the cache through a
// redis+sentinel:// URL, so the failover client is exercised end to end.
func TestSentinelURL(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Skip(t, "redis-server", "redis-server not installed; sentinel URL only parse-tested")
	}
	u, _ := url.Parse(raw)
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sport := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor rkmaster %s %s 1\nsentinel down-after-milliseconds rkmaster 60000\n",
		sport, dir, host, port)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	ctx := context.Background()
	surl := fmt.Sprintf("redis+sentinel://127.0.0.1:%d%s?master_name=rkmaster&timeout=1s&prefix=%s", sport, u.Path, drivertest.RandomPrefix())
	c, err := cache.Open(ctx, surl)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = c.Set(ctx, "via-sentinel", []byte("ok"), time.Minute)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // sentinel still starting
	}
	if err != nil {
		t.Fatalf("Set through sentinel: %v", err)
	}
	if v, err := c.Get(ctx, "via-sentinel"); err != nil || string(v) != "ok" {
		t.Fatalf("Get through sentinel = %q, %v", v, err)
	}
	_ = c.Delete(ctx, "via-sentinel")
}
