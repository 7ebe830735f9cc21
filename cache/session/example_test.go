package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/session"
)

// A session store on a cache, configured with With… options, as
// middleware: the handler reads and writes the request's session, the
// middleware saves it and sets the cookie.
func ExampleNew() {
	ctx := context.Background()
	c, err := cache.Open(ctx, "mem://")
	if err != nil {
		panic(err)
	}
	defer c.Close() // the store has no Close of its own
	st := session.New(c, session.WithTTL(12*time.Hour), session.WithSecure(false), session.WithCookieName("sid"))

	app := st.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Get[int](s, "visits")
		_ = s.Set("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	}))
	var cookie *http.Cookie
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		if cs := rec.Result().Cookies(); len(cs) > 0 {
			cookie = cs[0]
		}
		fmt.Println(rec.Body.String(), cookie.Name)
	}
	// Output:
	// visit 1 sid
	// visit 2 sid
}
