package search

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
)

// Opener opens a driver from a URL.
type Opener func(ctx context.Context, u *url.URL) (Driver, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes a driver available under URL scheme(s). Drivers call it from
// init; it panics on a duplicate scheme.
func Register(opener Opener, schemes ...string) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, s := range schemes {
		if _, dup := registry[s]; dup {
			panic("search: driver registered twice for scheme " + s)
		}
		registry[s] = opener
	}
}

// Schemes lists the registered URL schemes.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	for s := range registry {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open opens an engine from a URL. The query parameter "prefix" sets the
// index prefix (overridden by WithPrefix); other parameters belong to the
// driver.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Engine, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: url: %v", ErrInvalid, err)
	}
	registryMu.RLock()
	op := registry[u.Scheme]
	registryMu.RUnlock()
	if op == nil {
		return nil, fmt.Errorf("%w: no search driver for scheme %q (import its package, e.g. search/blevesearch)", ErrInvalid, u.Scheme)
	}
	prefix := u.Query().Get("prefix")
	q := u.Query()
	q.Del("prefix")
	u.RawQuery = q.Encode()
	d, err := op(ctx, u)
	if err != nil {
		return nil, err
	}
	e, err := New(ctx, d, append([]Option{WithPrefix(prefix)}, opts...)...)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	return e, nil
}
