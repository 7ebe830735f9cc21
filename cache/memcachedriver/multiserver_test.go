package memcachedriver_test

import (
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"testing"
	"time"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/internal/testenv"
)

// TestMultiServerConformance starts a second, throwaway memcached and runs
// the conformance suite over a two-server memcache:// URL, so keys (and
// GetMulti batches) are spread across servers.
func TestMultiServerConformance(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	t.Parallel()
	bin, err := exec.LookPath("memcached")
	if err != nil {
		testenv.Skip(t, "memcached", "memcached not installed; multi-server URLs only parse-tested")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "-u", "root", "-l", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "0", "-m", "64")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start memcached: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	second := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("memcached on %s never came up: %v", second, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	u, _ := url.Parse(raw)
	// A generous socket timeout: the suite checks behaviour, not speed, and
	// a loaded machine answers slower than the 1s default.
	multi := "memcache://" + u.Host + "," + second + "?timeout=10s"
	drivertest.RunConformanceTests(t, drivertest.Harness{
		Open:                func(t *testing.T) driver.Driver { return openURL(t, multi) },
		MinTTL:              2 * time.Second,
		RejectsKeySpaces:    true,
		DriverMaxValueBytes: 1 << 20,
	})
}
