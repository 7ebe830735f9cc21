// Package pagecache is HTTP middleware that caches whole responses to
// anonymous GET and HEAD requests in a cache.Cache, like Invenio's
// cached_unless_authenticated.
//
// A response is stored only when: the request is anonymous (WithIsAnonymous;
// by default no Authorization header and no session cookie), the method is
// GET and the request has no Range header, the status is one of WithStatuses
// (default 200), the response sets no cookie, its Cache-Control has none of
// no-store, private or no-cache, its Vary names only headers in WithVaryHeaders
// (never "*"), its body fits WithMaxBodyBytes, and the handler left the
// request's session (package session) empty. The ttl is WithTTL's, shortened by
// s-maxage or max-age when the response gives one (0 means not stored).
//
// Entries are keyed on method, host, request URI and the values of the
// WithVaryHeaders. HEAD requests are answered from the GET entry. If the cache
// is down the handler is simply called: a cache outage never becomes a
// site outage.
package pagecache

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/session"
)

// PageCache holds the configuration of the middleware. Create it with New.
type PageCache struct {
	c            *cache.Cache
	ttl          time.Duration
	statuses     []int
	isAnonymous  func(*http.Request) bool
	vary         []string // canonical header names, sorted
	maxBody      int
	statusHeader string
	log          *slog.Logger
	now          func() time.Time
}

// Option configures a PageCache.
type Option func(*PageCache)

// WithTTL sets how long pages are kept (default one minute).
func WithTTL(d time.Duration) Option { return func(p *PageCache) { p.ttl = d } }

// WithStatuses sets the status codes that may be cached (default 200 only).
func WithStatuses(codes ...int) Option { return func(p *PageCache) { p.statuses = codes } }

// WithIsAnonymous sets the test for requests whose responses may be cached and
// served from the cache.
func WithIsAnonymous(f func(*http.Request) bool) Option {
	return func(p *PageCache) { p.isAnonymous = f }
}

// WithSessionCookie sets the cookie whose presence makes the default WithIsAnonymous
// test fail (default session.DefaultCookieName).
func WithSessionCookie(name string) Option {
	return func(p *PageCache) { p.isAnonymous = defaultAnonymous(name) }
}

// WithVaryHeaders sets the request headers that are part of every key, and so
// the only ones a cached response may Vary on (default Accept,
// Accept-Encoding, Accept-Language).
func WithVaryHeaders(names ...string) Option {
	return func(p *PageCache) {
		p.vary = nil
		for _, n := range names {
			p.vary = append(p.vary, http.CanonicalHeaderKey(n))
		}
		slices.Sort(p.vary)
	}
}

// WithMaxBodyBytes sets the largest body that is cached (default 1 MiB); larger
// responses are streamed through uncached.
func WithMaxBodyBytes(n int) Option { return func(p *PageCache) { p.maxBody = n } }

// WithStatusHeader names the response header reporting HIT or MISS (default
// "X-Cache"; "" for none).
func WithStatusHeader(name string) Option { return func(p *PageCache) { p.statusHeader = name } }

// WithLogger sets where cache failures are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *PageCache) { p.log = l } }

// New returns a page cache storing entries in c under the namespace "page".
// The page cache holds no resources of its own (it has no Close): close c
// when done, after the HTTP server stopped.
func New(c *cache.Cache, opts ...Option) *PageCache {
	p := &PageCache{
		c:            c.Namespace("page"),
		ttl:          time.Minute,
		statuses:     []int{http.StatusOK},
		isAnonymous:  defaultAnonymous(session.DefaultCookieName),
		maxBody:      1 << 20,
		statusHeader: "X-Cache",
		log:          slog.Default(),
		now:          time.Now,
	}
	WithVaryHeaders("Accept", "Accept-Encoding", "Accept-Language")(p)
	for _, o := range opts {
		o(p)
	}
	return p
}

func defaultAnonymous(cookie string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if r.Header.Get("Authorization") != "" {
			return false
		}
		_, err := r.Cookie(cookie)
		return err != nil
	}
}

// key derives the cache key of a request: a hash of method (HEAD counts as
// GET), host, request URI and the vary headers' values.
func (p *PageCache) key(r *http.Request) string {
	h := sha256.New()
	write := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	write(http.MethodGet)
	write(r.Host)
	write(r.URL.RequestURI())
	for _, name := range p.vary {
		write(name)
		write(strings.Join(r.Header.Values(name), ","))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Middleware returns next wrapped by the page cache.
func (p *PageCache) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.Header.Get("Range") != "" || !p.isAnonymous(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		key := p.key(r)
		b, err := p.c.Get(ctx, key)
		if err == nil {
			if e, ok := decodeEntry(b); ok {
				fresh, ferr := p.fresh(ctx, e.started, pageTags(r, e.tags))
				if ferr != nil {
					p.log.Log(ctx, cache.LogLevel(ferr), "pagecache: cache unavailable, calling the handler", "err", ferr)
					next.ServeHTTP(w, r)
					return
				}
				if fresh {
					p.serve(w, r, e)
					return
				}
			}
		} else if !isMiss(err) {
			p.log.Log(ctx, cache.LogLevel(err), "pagecache: cache unavailable, calling the handler", "err", err)
			next.ServeHTTP(w, r)
			return
		}
		if p.statusHeader != "" {
			w.Header().Set(p.statusHeader, "MISS")
		}
		if r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w, max: p.maxBody}
		started := p.now()
		ts := &tagSet{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, tagsKey{}, ts)))
		if s := session.FromContext(ctx); s != nil && len(s.Keys()) > 0 {
			return // the handler put something in a session: the page is personal
		}
		if ttl, ok := p.cacheable(rec); ok {
			ts.mu.Lock()
			tags := ts.tags
			ts.mu.Unlock()
			if !p.admit(ctx, started, pageTags(r, tags)) {
				return // purged while rendering, or the cache is failing
			}
			e := entry{status: rec.statusCode(), header: rec.header, body: rec.body, stored: p.now(), started: started, tags: tags}
			if p.statusHeader != "" {
				e.header.Del(p.statusHeader)
			}
			if err := p.c.Set(ctx, key, e.encode(), ttl); err != nil {
				p.log.Log(ctx, cache.LogLevel(err), "pagecache: page not stored", "err", err)
			}
		}
	})
}

func isMiss(err error) bool { return errors.Is(err, cache.ErrMiss) }

// serve answers r from a cached entry.
func (p *PageCache) serve(w http.ResponseWriter, r *http.Request, e entry) {
	h := w.Header()
	for k, vs := range e.header {
		h[k] = vs
	}
	if p.statusHeader != "" {
		h.Set(p.statusHeader, "HIT")
	}
	age := int(p.now().Sub(e.stored) / time.Second)
	h.Set("Age", itoa(max(age, 0)))
	if etag := e.header.Get("ETag"); etag != "" && e.status == http.StatusOK && matchETag(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.body)
	}
}

// cacheable decides whether a recorded response may be stored, and for how long.
func (p *PageCache) cacheable(rec *recorder) (time.Duration, bool) {
	if rec.overflow || !slices.Contains(p.statuses, rec.statusCode()) {
		return 0, false
	}
	h := rec.header
	if h == nil || len(h.Values("Set-Cookie")) > 0 {
		return 0, false
	}
	ttl := p.ttl
	for _, d := range splitList(h.Values("Cache-Control")) {
		name, val, _ := strings.Cut(strings.ToLower(d), "=")
		switch strings.TrimSpace(name) {
		case "no-store", "private", "no-cache":
			return 0, false
		case "s-maxage", "max-age":
			secs, ok := atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if !ok {
				return 0, false
			}
			if secs <= 0 {
				return 0, false
			}
			ttl = min(ttl, time.Duration(secs)*time.Second)
		}
	}
	for _, v := range splitList(h.Values("Vary")) {
		if v == "*" || !slices.Contains(p.vary, http.CanonicalHeaderKey(v)) {
			return 0, false
		}
	}
	return ttl, true
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func matchETag(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range splitList([]string{header}) {
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}
