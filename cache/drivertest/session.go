package drivertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/cache/session"
)

// sessionApp is a tiny app: /login rotates the session and records the
// user, /me reports it, /logout destroys the session, /visit counts visits.
func sessionApp(st *session.Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Rotate()
		_ = s.Set("user", r.URL.Query().Get("u"))
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		u, _ := session.Get[string](session.FromContext(r.Context()), "user")
		io.WriteString(w, u)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Destroy()
	})
	mux.HandleFunc("/visit", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Get[int](s, "n")
		_ = s.Set("n", n+1)
		io.WriteString(w, strings.Repeat("x", n+1))
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") })
	return st.Middleware(mux)
}

// do sends a request with the given session cookie value ("" for none) and
// returns the body and the session cookie the response set (nil if none).
func do(t *testing.T, h http.Handler, path, sid string) (string, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if sid != "" {
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: sid})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.DefaultCookieName {
			return rec.Body.String(), c
		}
	}
	return rec.Body.String(), nil
}

func testSession(t *testing.T, h Harness) {
	t.Run("CookieAndData", func(t *testing.T) {
		t.Parallel()
		c := open(t, h)
		app := sessionApp(session.New(c))
		if _, ck := do(t, app, "/plain", ""); ck != nil {
			t.Fatalf("an untouched new session set a cookie: %v", ck)
		}
		_, ck := do(t, app, "/visit", "")
		if ck == nil {
			t.Fatal("no session cookie after writing to the session")
		}
		if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 {
			t.Fatalf("cookie flags: %+v", ck)
		}
		if len(ck.Value) != 43 {
			t.Fatalf("cookie value %q is not a 256-bit base64url id", ck.Value)
		}
		for want := 2; want <= 3; want++ {
			if body, _ := do(t, app, "/visit", ck.Value); len(body) != want {
				t.Fatalf("visit count %d, want %d: data not kept", len(body), want)
			}
		}
		// The data lives in the cache, not in the cookie: the same cookie
		// from a store on another cache finds nothing.
		other := sessionApp(session.New(open(t, h)))
		if body, _ := do(t, other, "/visit", ck.Value); len(body) != 1 {
			t.Fatalf("session data travelled in the cookie: visit count %d", len(body))
		}
	})
	t.Run("FixationPrevented", func(t *testing.T) {
		t.Parallel()
		c := open(t, h)
		app := sessionApp(session.New(c))
		// An attacker-invented id is never adopted.
		forged := strings.Repeat("A", 43)
		_, ck := do(t, app, "/visit", forged)
		if ck == nil || ck.Value == forged {
			t.Fatalf("forged id adopted: %v", ck)
		}
		// An attacker obtains a real anonymous session id and plants it on the victim.
		_, planted := do(t, app, "/visit", "")
		body, after := do(t, app, "/login?u=victim", planted.Value)
		if body != "ok" || after == nil {
			t.Fatalf("login: %q, cookie %v", body, after)
		}
		if after.Value == planted.Value {
			t.Fatal("session id not rotated on login")
		}
		if me, _ := do(t, app, "/me", after.Value); me != "victim" {
			t.Fatalf("victim's new session: /me = %q", me)
		}
		if me, _ := do(t, app, "/me", planted.Value); me != "" {
			t.Fatalf("attacker's planted id sees %q after the victim's login", me)
		}
		// Logout ends the session.
		_, gone := do(t, app, "/logout", after.Value)
		if gone == nil || gone.MaxAge >= 0 {
			t.Fatalf("logout did not expire the cookie: %v", gone)
		}
		if me, _ := do(t, app, "/me", after.Value); me != "" {
			t.Fatalf("session alive after logout: %q", me)
		}
	})
	t.Run("SlidingExpiry", func(t *testing.T) {
		t.Parallel()
		c := open(t, h)
		ttl := max(h.MinTTL, 400*time.Millisecond)
		app := sessionApp(session.New(c, session.WithTTL(ttl)))
		// Keep using it for longer than one ttl: it must stay alive. A gap
		// of a whole ttl between two requests (a loaded machine) lets it
		// expire legitimately: then the round starts again.
		var ck *http.Cookie
		for try := 1; ; try++ {
			_, ck = do(t, app, "/login?u=alice", "")
			last := time.Now()
			end := last.Add(ttl + ttl/2)
			alive := true
			for time.Now().Before(end) {
				if me, _ := do(t, app, "/me", ck.Value); me != "alice" {
					// ttl/2: Memcached counts whole seconds and may
					// expire up to a second early.
					if time.Since(last) < ttl/2 || try == 5 {
						t.Fatalf("active session expired: %q", me)
					}
					alive = false
					break
				}
				last = time.Now()
				time.Sleep(ttl / 4)
			}
			if alive {
				break
			}
		}
		// Then leave it idle for longer than the ttl.
		time.Sleep(ttl + ttl/2 + 1100*time.Millisecond*boolInt(h.MinTTL >= time.Second))
		if me, _ := do(t, app, "/me", ck.Value); me != "" {
			t.Fatalf("idle session survived its ttl: %q", me)
		}
	})
}
