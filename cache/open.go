package cache

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/memdriver"
)

// URLMux maps URL schemes to driver openers, like gocloud.dev's URL muxes.
// The zero value is an empty mux; DefaultURLMux is the one Open uses.
type URLMux struct {
	mu      sync.RWMutex
	openers map[string]driver.URLOpener
}

// Register makes opener handle scheme. It panics if scheme is already
// registered (two drivers claiming one scheme is a programming error).
func (m *URLMux) Register(scheme string, opener driver.URLOpener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.openers == nil {
		m.openers = map[string]driver.URLOpener{}
	}
	if _, dup := m.openers[scheme]; dup {
		panic("cache: scheme registered twice: " + scheme)
	}
	m.openers[scheme] = opener
}

// Schemes lists the registered schemes, sorted.
func (m *URLMux) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.openers))
	for s := range m.openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open opens the cache at urlstr. The parameters prefix, max_value_bytes and
// breaker are handled here (see WithPrefix, WithMaxValueBytes, WithBreaker) and removed before the
// driver sees the URL; opts are applied after them.
func (m *URLMux) Open(ctx context.Context, urlstr string, opts ...Option) (*Cache, error) {
	u, err := url.Parse(urlstr)
	if err != nil {
		return nil, fmt.Errorf("%w: cache URL: %w", ErrInvalid, err)
	}
	m.mu.RLock()
	opener := m.openers[u.Scheme]
	m.mu.RUnlock()
	if opener == nil {
		return nil, fmt.Errorf("%w: no cache driver for scheme %q (registered: %v; import the driver package)",
			ErrInvalid, u.Scheme, m.Schemes())
	}
	q := u.Query()
	var pre []Option
	if q.Has("prefix") {
		pre = append(pre, WithPrefix(q.Get("prefix")))
		q.Del("prefix")
	}
	if q.Has("max_value_bytes") {
		n, err := memdriver.ParseBytes(q.Get("max_value_bytes"))
		if err != nil {
			return nil, fmt.Errorf("%w: max_value_bytes: %w", ErrInvalid, err)
		}
		if n > int64(^uint(0)>>1) {
			return nil, fmt.Errorf("%w: max_value_bytes too big: %s", ErrInvalid, strconv.FormatInt(n, 10))
		}
		pre = append(pre, WithMaxValueBytes(int(n)))
		q.Del("max_value_bytes")
	}
	if q.Has("breaker") {
		d, err := time.ParseDuration(q.Get("breaker"))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%w: breaker: want a duration like 1s (0 disables), got %q", ErrInvalid, q.Get("breaker"))
		}
		pre = append(pre, WithBreaker(d))
		q.Del("breaker")
	}
	u.RawQuery = q.Encode()
	drv, err := opener.OpenCacheURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c, err := New(ctx, drv, append(pre, opts...)...)
	if err != nil {
		_ = drv.Close()
		return nil, err
	}
	return c, nil
}

var defaultMux = func() *URLMux {
	m := &URLMux{}
	m.Register(memdriver.Scheme, memdriver.URLOpener{})
	return m
}()

// DefaultURLMux returns the mux Open uses. It knows "mem" out of the box;
// driver packages (redisdriver, memcachedriver) register their schemes when
// imported.
func DefaultURLMux() *URLMux { return defaultMux }

// Open opens a cache from a URL using DefaultURLMux: "mem://?max_bytes=64MiB",
// "redis://host:6379/0", "memcache://host1:11211,host2:11211" (the latter two
// need their driver package imported).
func Open(ctx context.Context, urlstr string, opts ...Option) (*Cache, error) {
	return defaultMux.Open(ctx, urlstr, opts...)
}
