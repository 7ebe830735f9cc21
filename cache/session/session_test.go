package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/session"
)

func newStore(t *testing.T, opts ...session.Option) (*session.Store, *cache.Cache) {
	c, err := cache.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return session.New(c, opts...), c
}

func request(sid string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if sid != "" {
		r.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: sid})
	}
	return r
}

func cookieOf(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.DefaultCookieName {
			return c
		}
	}
	return nil
}

func TestJunkCookiesNeverReachTheCache(t *testing.T) {
	st, _ := newStore(t)
	for _, junk := range []string{"x", "../../etc", "AAAA", "with space", "é"} {
		s, err := st.Load(context.Background(), request(junk))
		if err != nil || !s.IsNew() || s.ID() == junk {
			t.Fatalf("cookie %q: new=%v id=%q err=%v", junk, s.IsNew(), s.ID(), err)
		}
	}
}

func TestSaveLoadRotateDestroy(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, session.WithSecure(false), session.WithSameSite(http.SameSiteStrictMode), session.WithCookieName("sid"))
	if st.CookieName() != "sid" {
		t.Fatal(st.CookieName())
	}
	s, _ := st.Load(ctx, request(""))
	_ = s.Set("user", "ada")
	_ = s.Set("roles", []string{"admin"})
	rec := httptest.NewRecorder()
	if err := st.Save(ctx, rec, s); err != nil {
		t.Fatal(err)
	}
	ck := rec.Result().Cookies()[0]
	if ck.Name != "sid" || ck.Secure || ck.SameSite != http.SameSiteStrictMode || !ck.HttpOnly {
		t.Fatalf("cookie options ignored: %+v", ck)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(ck)
	s2, err := st.Load(ctx, r)
	if err != nil || s2.IsNew() {
		t.Fatalf("reload: new=%v err=%v", s2.IsNew(), err)
	}
	if u, ok := session.Get[string](s2, "user"); !ok || u != "ada" {
		t.Fatalf("user = %q %v", u, ok)
	}
	if roles, ok := session.Get[[]string](s2, "roles"); !ok || roles[0] != "admin" {
		t.Fatalf("roles = %v", roles)
	}
	if _, ok := session.Get[int](s2, "user"); ok {
		t.Fatal("Get of the wrong type reported ok")
	}
	if keys := s2.Keys(); len(keys) != 2 || keys[0] != "roles" {
		t.Fatalf("keys = %v", keys)
	}
	old := s2.ID()
	s2.Rotate()
	if s2.ID() == old {
		t.Fatal("Rotate kept the id")
	}
	rec = httptest.NewRecorder()
	if err := st.Save(ctx, rec, s2); err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "sid", Value: old})
	if s3, _ := st.Load(ctx, r); !s3.IsNew() {
		t.Fatal("old id still loads after Rotate")
	}
	s2.Delete("roles")
	s2.Destroy()
	rec = httptest.NewRecorder()
	if err := st.Save(ctx, rec, s2); err != nil {
		t.Fatal(err)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("Destroy did not expire the cookie: %v", c)
	}
}

func TestMaxLifetime(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, session.WithTTL(time.Hour), session.WithMaxLifetime(300*time.Millisecond))
	s, _ := st.Load(ctx, request(""))
	_ = s.Set("k", 1)
	rec := httptest.NewRecorder()
	_ = st.Save(ctx, rec, s)
	sid := cookieOf(rec).Value
	if s, _ := st.Load(ctx, request(sid)); s.IsNew() {
		t.Fatal("session gone before its lifetime")
	}
	time.Sleep(400 * time.Millisecond)
	if s, _ := st.Load(ctx, request(sid)); !s.IsNew() {
		t.Fatal("session outlived MaxLifetime despite a long idle TTL")
	}
}

func TestMiddlewareSavesBeforeBody(t *testing.T) {
	st, _ := newStore(t)
	h := st.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.FromContext(r.Context()).Set("k", "v")
		w.(http.Flusher).Flush() // headers go out here: the cookie must already be set
		_, _ = w.Write([]byte("body"))
		_ = session.FromContext(r.Context()).Set("late", true) // too late; not saved
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(""))
	ck := cookieOf(rec)
	if ck == nil {
		t.Fatal("no cookie although the session was written before the body")
	}
	s, _ := st.Load(context.Background(), request(ck.Value))
	if v, _ := session.Get[string](s, "k"); v != "v" {
		t.Fatalf("k = %q", v)
	}
	if s.Has("late") {
		t.Fatal("a change after the headers was saved (the cookie could not follow)")
	}
	if session.FromContext(context.Background()) != nil {
		t.Fatal("FromContext without a session")
	}
}

func TestSlidingWritesAreThrottled(t *testing.T) {
	ctx := context.Background()
	st, c := newStore(t, session.WithTTL(time.Hour))
	s, _ := st.Load(ctx, request(""))
	_ = s.Set("k", 1)
	rec := httptest.NewRecorder()
	_ = st.Save(ctx, rec, s)
	sid := cookieOf(rec).Value
	// An unchanged session read soon after its last write is not rewritten.
	s2, _ := st.Load(ctx, request(sid))
	rec = httptest.NewRecorder()
	if err := st.Save(ctx, rec, s2); err != nil {
		t.Fatal(err)
	}
	if cookieOf(rec) != nil {
		t.Fatal("unchanged fresh session rewritten on every request")
	}
	_ = c
}
