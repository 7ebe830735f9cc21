package redisdriver

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
)

// DefaultTimeout bounds dialing, each read and write, and waiting for a pooled
// connection, unless the URL says otherwise.
const DefaultTimeout = time.Second

// Schemes registered by this package.
var Schemes = []string{"redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"}

func init() {
	for _, s := range Schemes {
		cache.DefaultURLMux().Register(s, URLOpener{})
	}
}

// URLOpener opens Redis URLs (see the package doc).
type URLOpener struct{}

// OpenCacheURL implements driver.URLOpener.
func (URLOpener) OpenCacheURL(ctx context.Context, u *url.URL) (driver.Driver, error) {
	rdb, err := NewClient(u)
	if err != nil {
		return nil, err
	}
	return New(rdb, WithCloseClient()), nil
}

// NewClient builds the go-redis client a URL describes (see the package doc),
// without connecting.
func NewClient(u *url.URL) (redis.UniversalClient, error) {
	base, mode, _ := strings.Cut(u.Scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("redisdriver: unsupported scheme %q", u.Scheme)
	}
	q := u.Query()
	timeout := DefaultTimeout
	if q.Has("timeout") {
		t, err := time.ParseDuration(q.Get("timeout"))
		if err != nil || t <= 0 {
			return nil, fmt.Errorf("redisdriver: timeout: want a duration like 500ms, got %q", q.Get("timeout"))
		}
		timeout = t
		q.Del("timeout")
	}
	userRetries := q.Has("max_retries")
	// Several hosts "h1:p1,h2:p2": the first is the URL host, the others go-redis addr= params.
	hosts := strings.Split(u.Host, ",")
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	v := *u
	v.Scheme = base
	v.Host = hosts[0]
	v.RawQuery = q.Encode()
	s := v.String()
	switch mode {
	case "":
		if len(hosts) > 1 {
			return nil, fmt.Errorf("redisdriver: several hosts need redis+cluster:// or redis+sentinel://")
		}
		o, err := redis.ParseURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisdriver: %w", err)
		}
		applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, timeout, q)
		if !userRetries {
			o.MaxRetries = -1
		}
		return redis.NewClient(o), nil
	case "sentinel":
		o, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisdriver: %w", err)
		}
		if o.MasterName == "" {
			return nil, fmt.Errorf("redisdriver: redis+sentinel:// needs master_name=")
		}
		applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, timeout, q)
		if !userRetries {
			o.MaxRetries = -1
		}
		return redis.NewFailoverClient(o), nil
	case "cluster":
		o, err := redis.ParseClusterURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisdriver: %w", err)
		}
		applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, timeout, q)
		if !userRetries {
			o.MaxRetries = -1
		}
		return redis.NewClusterClient(o), nil
	}
	return nil, fmt.Errorf("redisdriver: unsupported scheme %q", u.Scheme)
}

// applyTimeouts sets each timeout the URL did not set explicitly.
func applyTimeouts(dial, read, write, pool *time.Duration, t time.Duration, q url.Values) {
	for name, p := range map[string]*time.Duration{"dial_timeout": dial, "read_timeout": read, "write_timeout": write, "pool_timeout": pool} {
		if !q.Has(name) {
			*p = t
		}
	}
}
