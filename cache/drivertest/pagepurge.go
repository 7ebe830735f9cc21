package drivertest

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/repokit/repokit/cache/pagecache"
)

// testPagePurge checks that pages are purged by tag, path, request and all
// at once on the driver, and that a page rendered while its tag was purged
// is not stored.
func testPagePurge(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	pc := pagecache.New(c)
	var calls atomic.Int32
	var purgeWhileRendering atomic.Bool
	app := pc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if id := r.URL.Query().Get("record"); id != "" {
			pagecache.AddTags(r.Context(), "record:"+id)
		}
		if purgeWhileRendering.Load() {
			// A write commits and purges while this page is being rendered.
			if err := pc.PurgeTags(r.Context(), "record:"+r.URL.Query().Get("record")); err != nil {
				t.Error(err)
			}
		}
		fmt.Fprintf(w, "call %d", n)
	}))
	hit := func(path string) bool {
		t.Helper()
		return get(t, app, pageReq{path: path}).Header().Get("X-Cache") == "HIT"
	}
	warm := func(paths ...string) {
		t.Helper()
		for _, p := range paths {
			get(t, app, pageReq{path: p})
			if !hit(p) {
				t.Fatalf("%s not cached after a GET", p)
			}
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	warm("/r?record=1", "/r?record=2")
	must(pc.PurgeTags(ctx, "record:1"))
	if hit("/r?record=1") {
		t.Error("page tagged record:1 served from the cache after PurgeTags(record:1)")
	}
	if !hit("/r?record=1") {
		t.Error("page not cached again after its purge")
	}
	if !hit("/r?record=2") {
		t.Error("PurgeTags(record:1) also purged the page tagged record:2")
	}

	warm("/p?x=1", "/p?x=2", "/q")
	must(pc.PurgePath(ctx, "/p"))
	if hit("/p?x=1") || hit("/p?x=2") {
		t.Error("PurgePath(/p) left a page of /p")
	}
	if !hit("/q") {
		t.Error("PurgePath(/p) purged /q")
	}

	warm("/k?a=1", "/k?a=2")
	must(pc.PurgeRequest(ctx, purgeTarget(t, "/k?a=1")))
	if hit("/k?a=1") {
		t.Error("PurgeRequest left its page")
	}
	if !hit("/k?a=2") {
		t.Error("PurgeRequest purged another query's page")
	}

	warm("/all1", "/all2")
	pc.Purger(pagecache.AllTag)(ctx)
	if hit("/all1") || hit("/all2") {
		t.Error("PurgeAll left pages")
	}

	purgeWhileRendering.Store(true)
	get(t, app, pageReq{path: "/r?record=3"})
	purgeWhileRendering.Store(false)
	if hit("/r?record=3") {
		t.Error("a page rendered while its tag was purged was stored")
	}

	// Another page cache on the same cache (another process) sees purges.
	other := pagecache.New(c)
	warm("/r?record=4")
	must(other.PurgeTags(ctx, "record:4"))
	if hit("/r?record=4") {
		t.Error("a purge by another PageCache on the same cache was not seen")
	}
}

func purgeTarget(t *testing.T, target string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, "http://example.com"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
