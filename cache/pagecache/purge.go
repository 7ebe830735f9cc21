package pagecache

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/repokit/repokit/cache"
)

// Purging
//
// Every stored page carries tags: "*" (every page), "path:" + its URL path,
// and whatever the handler added with AddTags (a record page its record id,
// a search page its index name). For each tag the cache holds one small
// counter: the time of the tag's last purge. A page is served only if it
// was rendered after the last purge of each of its tags; purging is one
// cache write per tag and needs no scan, so it works the same on every
// cache driver (memory, Redis, Memcached). A page rendered while a purge
// happened is not stored. A tag whose counter was evicted invalidates the
// pages that carry it, so eviction never resurrects a purged page. Pages
// are compared with purge times taken from the clocks of the processes
// that purge and render: keep those clocks in sync (NTP).

// AllTag is carried by every page; PurgeTags(ctx, AllTag) is PurgeAll.
const AllTag = "*"

// tagsKey is the context key of the tag set of a request being rendered.
type tagsKey struct{}

type tagSet struct {
	mu   sync.Mutex
	tags []string
}

// AddTags tags the response being rendered for r's context, so that
// PurgeTags with any of the tags purges it. Handlers call it with, say,
// "record:"+id on a record's page or "index:records" on a search page.
// Outside the middleware it does nothing.
func AddTags(ctx context.Context, tags ...string) {
	ts, _ := ctx.Value(tagsKey{}).(*tagSet)
	if ts == nil {
		return
	}
	ts.mu.Lock()
	ts.tags = append(ts.tags, tags...)
	ts.mu.Unlock()
}

// PathTag is the tag every page of a URL path carries (whatever its query,
// host or Vary headers).
func PathTag(path string) string { return "path:" + path }

// PurgeTags purges every page carrying any of tags.
func (p *PageCache) PurgeTags(ctx context.Context, tags ...string) error {
	now := strconv.FormatInt(p.now().UnixNano(), 10)
	var errs []error
	for _, t := range tags {
		if err := p.c.Set(ctx, tagKey(t), []byte(now), p.tagTTL()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PurgePath purges every page of a URL path, whatever its query string.
func (p *PageCache) PurgePath(ctx context.Context, path string) error {
	return p.PurgeTags(ctx, PathTag(path))
}

// PurgeAll purges every page.
func (p *PageCache) PurgeAll(ctx context.Context) error { return p.PurgeTags(ctx, AllTag) }

// PurgeRequest removes the one entry r would be answered from (same
// method, host, URI and Vary headers): purge by key.
func (p *PageCache) PurgeRequest(ctx context.Context, r *http.Request) error {
	err := p.c.Delete(ctx, p.key(r))
	if errors.Is(err, cache.ErrMiss) {
		return nil
	}
	return err
}

// Purger returns a function that purges tags and logs a failure, in the
// shape sqltx.AfterCommit takes, so a write purges once it has committed:
//
//	sqltx.AfterCommit(tx, pages.Purger("record:"+id))
func (p *PageCache) Purger(tags ...string) func(context.Context) {
	return func(ctx context.Context) {
		if err := p.PurgeTags(ctx, tags...); err != nil {
			p.log.Log(ctx, cache.LogLevel(err), "pagecache: purge failed; pages stay until their TTL", "tags", tags, "err", err)
		}
	}
}

// tagTTL is how long a tag's purge time is kept: longer than any page
// lives, so that it outlives every page it could invalidate.
func (p *PageCache) tagTTL() time.Duration { return max(24*time.Hour, 2*p.ttl) }

// tagKey is the cache key of a tag's purge time (hashed: tags are free text
// and Memcached keys are not).
func tagKey(tag string) string {
	h := sha256.Sum256([]byte(tag))
	return "tag:" + base64.RawURLEncoding.EncodeToString(h[:18])
}

// pageTags returns the tags a page of r carries besides the handler's.
func pageTags(r *http.Request, extra []string) []string {
	tags := make([]string, 0, 2+len(extra))
	tags = append(tags, AllTag, PathTag(r.URL.Path))
	return append(tags, extra...)
}

// fresh reports whether a page rendered at rendered with tags has not been
// purged since. ok is false when the cache could not be asked.
func (p *PageCache) fresh(ctx context.Context, rendered time.Time, tags []string) (fresh bool, err error) {
	times, err := p.purgeTimes(ctx, tags)
	if err != nil {
		return false, err
	}
	for _, t := range tags {
		pt, ok := times[t]
		if !ok || pt >= rendered.UnixNano() {
			return false, nil
		}
	}
	return true, nil
}

// purgeTimes reads the purge times of tags; absent tags are left out.
func (p *PageCache) purgeTimes(ctx context.Context, tags []string) (map[string]int64, error) {
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = tagKey(t)
	}
	got, err := p.c.GetMulti(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(tags))
	for i, t := range tags {
		if b, ok := got[keys[i]]; ok {
			if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				out[t] = n
			}
		}
	}
	return out, nil
}

// admit decides whether a page whose rendering started at started may be
// stored: no tag was purged since started. Tags without a purge time get
// one just before started, so the page is valid until a later purge. A
// purge at the very nanosecond rendering started counts as after it.
func (p *PageCache) admit(ctx context.Context, started time.Time, tags []string) bool {
	times, err := p.purgeTimes(ctx, tags)
	if err != nil {
		return false
	}
	for _, t := range tags {
		pt, ok := times[t]
		if ok {
			if pt >= started.UnixNano() {
				return false // purged while rendering: the page may be stale
			}
			continue
		}
		err := p.c.Add(ctx, tagKey(t), []byte(strconv.FormatInt(started.UnixNano()-1, 10)), p.tagTTL())
		if err != nil && !errors.Is(err, cache.ErrNotStored) {
			return false
		}
		// On ErrExists another request (or a purge) set it first: fresh
		// checks it on every hit anyway.
	}
	return true
}
