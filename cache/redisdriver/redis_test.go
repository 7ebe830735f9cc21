package redisdriver_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/cache/redisdriver"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

const envURL = "REPOKIT_TEST_REDIS_URL"

func openURL(t *testing.T, raw string) driver.Driver {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	d, err := redisdriver.URLOpener{}.OpenCacheURL(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", raw, err)
	}
	return d
}

// withHost returns raw with its host replaced and timeout set.
func withHost(t *testing.T, raw, host string, timeout time.Duration) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	q := u.Query()
	q.Set("timeout", timeout.String())
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	t.Parallel()
	u, _ := url.Parse(raw)
	drivertest.RunConformanceTests(t, drivertest.Harness{
		Open:       func(t *testing.T) driver.Driver { return openURL(t, raw) },
		ServerAddr: u.Host,
		OpenAt: func(t *testing.T, addr string, timeout time.Duration) driver.Driver {
			return openURL(t, withHost(t, raw, addr, timeout))
		},
		MinTTL: 200 * time.Millisecond,
	})
}

func TestOpenViaMux(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	ctx := context.Background()
	c, err := cache.Open(ctx, raw+"?prefix="+drivertest.RandomPrefix())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	_ = c.Delete(ctx, "k")
}

func TestParseURLForms(t *testing.T) {
	parse := func(raw string) (redis.UniversalClient, error) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return redisdriver.NewClient(u)
	}
	c, err := parse("redis://user:pw@h1:6380/3?timeout=250ms&pool_size=7")
	if err != nil {
		t.Fatal(err)
	}
	o := c.(*redis.Client).Options()
	if o.Addr != "h1:6380" || o.DB != 3 || o.Username != "user" || o.Password != "pw" || o.PoolSize != 7 ||
		o.DialTimeout != 250*time.Millisecond || o.ReadTimeout != 250*time.Millisecond || o.MaxRetries != 0 {
		t.Fatalf("single: %+v", o)
	}
	_ = c.Close()
	c, err = parse("redis://h1:6380/0?timeout=250ms&read_timeout=2s&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	o = c.(*redis.Client).Options()
	if o.ReadTimeout != 2*time.Second || o.DialTimeout != 250*time.Millisecond || o.MaxRetries != 2 {
		t.Fatalf("explicit go-redis options must win: %+v", o)
	}
	_ = c.Close()
	c, err = parse("redis+cluster://n1:7000,n2:7001,n3:7002?timeout=300ms")
	if err != nil {
		t.Fatal(err)
	}
	co := c.(*redis.ClusterClient).Options()
	if len(co.Addrs) != 3 || co.Addrs[2] != "n3:7002" || co.ReadTimeout != 300*time.Millisecond {
		t.Fatalf("cluster: %+v", co)
	}
	_ = c.Close()
	if c, err = parse("rediss+sentinel://s1:26379,s2:26379/2?master_name=mymaster"); err != nil {
		t.Fatalf("sentinel: %v", err)
	}
	_ = c.Close()
	for _, bad := range []string{
		"redis+sentinel://s1:26379",    // no master_name
		"redis://h1:1,h2:2",            // several hosts without a mode
		"redis://h1:6379?colour=blue",  // unknown option
		"redis://h1:6379?timeout=soon", // bad timeout
		"redis+nope://h1:6379",         // unknown mode
		"redis://h1:6379/notanumber",   // bad db
	} {
		if c, err := parse(bad); err == nil {
			_ = c.Close()
			t.Errorf("%s: parsed, want an error", bad)
		}
	}
}

// TestNewClientOwnership: a client given to New stays open after the
// driver's Close unless WithCloseClient hands it over.
func TestNewClientOwnership(t *testing.T) {
	raw := sqldbtest.ServiceURL(t, envURL)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, owned := range []bool{false, true} {
		rdb, err := redisdriver.NewClient(u)
		if err != nil {
			t.Fatal(err)
		}
		var opts []redisdriver.Option
		if owned {
			opts = append(opts, redisdriver.WithCloseClient())
		}
		d := redisdriver.New(rdb, opts...)
		for range 2 {
			if err := d.Close(); err != nil {
				t.Fatalf("owned=%v: Close: %v", owned, err)
			}
		}
		perr := rdb.Ping(ctx).Err()
		if owned && perr == nil {
			t.Error("WithCloseClient: the client still answers after Close")
		}
		if !owned {
			if perr != nil {
				t.Errorf("caller's client closed by the driver: %v", perr)
			}
			_ = rdb.Close()
		}
	}
}
