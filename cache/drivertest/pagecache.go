package drivertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/repokit/repokit/cache/pagecache"
	"github.com/repokit/repokit/cache/session"
)

// pageApp counts handler calls and answers with the call number, so a
// cached answer is recognisable.
func pageApp(calls *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		q := r.URL.Query()
		if cc := q.Get("cc"); cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		if v := q.Get("vary"); v != "" {
			w.Header().Set("Vary", v)
		}
		if q.Has("cookie") {
			http.SetCookie(w, &http.Cookie{Name: "x", Value: "y"})
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		status := http.StatusOK
		if s := q.Get("status"); s != "" {
			fmt.Sscan(s, &status)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "call %d lang=%s", n, r.Header.Get("Accept-Language"))
	})
}

type pageReq struct {
	method, path string
	header       map[string]string
	cookie       bool
}

func get(t *testing.T, h http.Handler, pr pageReq) *httptest.ResponseRecorder {
	t.Helper()
	if pr.method == "" {
		pr.method = http.MethodGet
	}
	req := httptest.NewRequest(pr.method, pr.path, nil)
	for k, v := range pr.header {
		req.Header.Set(k, v)
	}
	if pr.cookie {
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: "x"})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func testPageCache(t *testing.T, h Harness) {
	c := open(t, h)
	var calls atomic.Int32
	app := pagecache.New(c).Middleware(pageApp(&calls))
	// check requests pr twice and wants the second answered by the cache or not.
	check := func(name string, pr pageReq, wantCached bool) {
		t.Helper()
		first := get(t, app, pr)
		second := get(t, app, pr)
		cached := first.Body.String() == second.Body.String() && second.Header().Get("X-Cache") == "HIT"
		if pr.method == http.MethodHead {
			cached = second.Header().Get("X-Cache") == "HIT"
		}
		if cached != wantCached {
			t.Errorf("%s: cached=%v, want %v (bodies %q / %q, X-Cache %q)", name, cached, wantCached,
				first.Body.String(), second.Body.String(), second.Header().Get("X-Cache"))
		}
	}
	check("anonymous GET", pageReq{path: "/a"}, true)
	check("Authorization header", pageReq{path: "/b", header: map[string]string{"Authorization": "Bearer t"}}, false)
	check("session cookie", pageReq{path: "/c", cookie: true}, false)
	check("no-store", pageReq{path: "/d?cc=no-store"}, false)
	check("private", pageReq{path: "/e?cc=private,+max-age=60"}, false)
	check("max-age=0", pageReq{path: "/e2?cc=max-age=0"}, false)
	check("public s-maxage", pageReq{path: "/e3?cc=public,+s-maxage=30"}, true)
	check("status 404", pageReq{path: "/f?status=404"}, false)
	check("status 500", pageReq{path: "/g?status=500"}, false)
	check("Set-Cookie", pageReq{path: "/h?cookie=1"}, false)
	check("Vary *", pageReq{path: "/i?vary=*"}, false)
	check("Vary Cookie", pageReq{path: "/i2?vary=Cookie"}, false)
	check("POST", pageReq{method: http.MethodPost, path: "/j"}, false)
	check("Range", pageReq{path: "/k", header: map[string]string{"Range": "bytes=0-1"}}, false)

	// The cached answer is complete: status, headers, body; HEAD reuses it.
	first := get(t, app, pageReq{path: "/full"})
	hit := get(t, app, pageReq{path: "/full"})
	if hit.Code != 200 || hit.Header().Get("Content-Type") != "text/plain" || hit.Body.String() != first.Body.String() ||
		hit.Header().Get("Age") == "" {
		t.Errorf("hit: %d %v %q", hit.Code, hit.Header(), hit.Body.String())
	}
	head := get(t, app, pageReq{method: http.MethodHead, path: "/full"})
	if head.Header().Get("X-Cache") != "HIT" || head.Body.Len() != 0 {
		t.Errorf("HEAD: X-Cache %q, body %q", head.Header().Get("X-Cache"), head.Body.String())
	}
	if nm := get(t, app, pageReq{path: "/full", header: map[string]string{"If-None-Match": `"v1"`}}); nm.Code != http.StatusNotModified {
		t.Errorf("If-None-Match on a hit: %d, want 304", nm.Code)
	}

	// The key covers the Vary headers: another language is another page.
	check("Vary Accept-Language", pageReq{path: "/l?vary=Accept-Language", header: map[string]string{"Accept-Language": "fr"}}, true)
	fr := get(t, app, pageReq{path: "/l?vary=Accept-Language", header: map[string]string{"Accept-Language": "fr"}})
	de := get(t, app, pageReq{path: "/l?vary=Accept-Language", header: map[string]string{"Accept-Language": "de"}})
	if fr.Body.String() == de.Body.String() {
		t.Errorf("fr and de share a cache entry: %q", de.Body.String())
	}
	// The query string is part of the key.
	if get(t, app, pageReq{path: "/a?x=1"}).Body.String() == get(t, app, pageReq{path: "/a"}).Body.String() {
		t.Error("/a?x=1 served from /a's entry")
	}

	// Configurable statuses and anonymity test.
	var calls2 atomic.Int32
	app2 := pagecache.New(c.Namespace("p2"), pagecache.WithStatuses(200, 404),
		pagecache.WithIsAnonymous(func(r *http.Request) bool { return r.Header.Get("X-User") == "" })).Middleware(pageApp(&calls2))
	a := get(t, app2, pageReq{path: "/f?status=404"})
	b := get(t, app2, pageReq{path: "/f?status=404"})
	if a.Body.String() != b.Body.String() || b.Code != 404 {
		t.Errorf("404 with Statuses(200,404) not cached: %q / %q", a.Body.String(), b.Body.String())
	}
	u1 := get(t, app2, pageReq{path: "/u", header: map[string]string{"X-User": "1"}})
	u2 := get(t, app2, pageReq{path: "/u", header: map[string]string{"X-User": "1"}})
	if u1.Body.String() == u2.Body.String() {
		t.Error("custom WithIsAnonymous ignored")
	}
	// A page whose handler starts a session is personal: never cached, even
	// though the request came without a cookie.
	var calls3 atomic.Int32
	st := session.New(c)
	personal := st.Middleware(pagecache.New(c.Namespace("p3")).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls3.Add(1)
		_ = session.FromContext(r.Context()).Set("csrf", n)
		fmt.Fprintf(w, "token %d", n)
	})))
	r1, r2 := get(t, personal, pageReq{path: "/form"}), get(t, personal, pageReq{path: "/form"})
	if r1.Body.String() == r2.Body.String() || r2.Header().Get("X-Cache") == "HIT" {
		t.Errorf("page that set session data was cached: %q / %q", r1.Body.String(), r2.Body.String())
	}
	// Outer session middleware with an untouched session: still cached.
	plain := st.Middleware(pagecache.New(c.Namespace("p4")).Middleware(pageApp(&calls3)))
	get(t, plain, pageReq{path: "/pub"})
	if rec := get(t, plain, pageReq{path: "/pub"}); rec.Header().Get("X-Cache") != "HIT" {
		t.Error("page behind an unused session middleware not cached")
	}
}
