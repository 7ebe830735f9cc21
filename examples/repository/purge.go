package main

// Page-cache purge by tag. The library's pagecache keys entries on the
// request and the values of its VaryHeaders; this file adds one synthetic
// request header, purgeHeader, whose value is the current generation of the
// tags a page depends on ("search", "record:12"). Purging a tag increments
// its generation in the cache, so every page built from the old generation
// is never looked up again (and expires with its TTL). When the library grows
// a purge-by-tag seam, replace this file with it.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/repokit/repokit/cache"
)

const purgeHeader = "X-Repokit-Generation"

// generationTTL outlives every cached page by far.
const generationTTL = 30 * 24 * time.Hour

// Purger keeps the generation counter of each tag.
type Purger struct{ c *cache.Cache }

func newPurger(c *cache.Cache) *Purger { return &Purger{c: c} }

// Purge makes every cached page tagged with one of tags stale.
func (p *Purger) Purge(ctx context.Context, tags ...string) error {
	var first error
	for _, t := range tags {
		if _, err := p.c.Incr(ctx, t, 1, generationTTL); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// generation returns the tags' current generations, "-" for a cache error
// (so a page is then never served from or stored under a stale key).
func (p *Purger) generation(ctx context.Context, tags []string) string {
	vals, err := p.c.GetMulti(ctx, tags)
	if err != nil {
		return "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	parts := make([]string, len(tags))
	for i, t := range tags {
		v := vals[t]
		if len(v) == 0 {
			v = []byte("0")
		}
		parts[i] = t + "=" + string(v)
	}
	return strings.Join(parts, ";")
}

// Tagged wraps a page-cached handler: it stamps the request with the
// generations of the tags the page depends on, before the page cache
// computes its key. A client-sent header is always replaced.
func (p *Purger) Tagged(tags func(*http.Request) []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(purgeHeader)
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			r.Header.Set(purgeHeader, p.generation(r.Context(), tags(r)))
		}
		next.ServeHTTP(w, r)
	})
}
