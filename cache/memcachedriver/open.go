package memcachedriver

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/memdriver"
)

// Scheme is the URL scheme of this driver.
const Scheme = "memcache"

// DefaultTimeout bounds dialing and each call unless the URL says otherwise.
const DefaultTimeout = time.Second

func init() { cache.DefaultURLMux().Register(Scheme, URLOpener{}) }

// URLOpener opens memcache:// URLs (see the package doc).
type URLOpener struct{}

// OpenCacheURL implements driver.URLOpener.
func (URLOpener) OpenCacheURL(ctx context.Context, u *url.URL) (driver.Driver, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("memcachedriver: no servers in %q", u.Redacted())
	}
	servers := strings.Split(u.Host, ",")
	for i, s := range servers {
		if s == "" {
			return nil, fmt.Errorf("memcachedriver: empty server in %q", u.Host)
		}
		if !strings.Contains(s, ":") {
			servers[i] = s + ":11211"
		}
	}
	ss := new(memcache.ServerList)
	if err := ss.SetServers(servers...); err != nil {
		return nil, fmt.Errorf("memcachedriver: %w", err)
	}
	mc := memcache.NewFromSelector(ss)
	mc.Timeout = DefaultTimeout
	mc.MaxIdleConns = 4 * runtime.GOMAXPROCS(0)
	maxItem := 0
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "timeout":
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return nil, fmt.Errorf("memcachedriver: timeout: want a duration like 500ms, got %q", v)
			}
			mc.Timeout = t
		case "max_idle_conns":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("memcachedriver: max_idle_conns: want a positive integer, got %q", v)
			}
			mc.MaxIdleConns = n
		case "max_item_bytes":
			n, err := memdriver.ParseBytes(v)
			if err != nil || n > 1<<30 {
				return nil, fmt.Errorf("memcachedriver: max_item_bytes: want a size up to 1GiB, got %q", v)
			}
			maxItem = int(n)
		default:
			return nil, fmt.Errorf("memcachedriver: unknown URL parameter %q", k)
		}
	}
	return New(mc, WithMaxItemBytes(maxItem), WithCloseClient()), nil
}
