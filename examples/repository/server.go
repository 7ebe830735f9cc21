package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/repokit/repokit/cache/pagecache"
	"github.com/repokit/repokit/cache/session"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/httperr"
)

//go:embed static templates
var assets embed.FS

// Handler builds the whole HTTP surface. Request classes follow Invenio's
// guide: static assets (/static/, long cache), application requests (small
// bodies) and record-file requests (/api/records/{pid}/files..., large
// bodies, downloads offloaded when configured).
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	small := func(h http.Handler) http.Handler { return limitBody(a.cfg.MaxBody, h) }
	large := func(h http.Handler) http.Handler { return limitBody(a.cfg.MaxUpload, h) }

	// Health.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.readyz)

	// Static assets and signed storage URLs.
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))))
	mux.Handle("/_storage/", http.StripPrefix("/_storage", a.locs.SignedURLHandler()))

	// REST API.
	mux.Handle("POST /api/records", small(http.HandlerFunc(a.apiCreate)))
	mux.Handle("GET /api/records", http.HandlerFunc(a.apiSearch))
	mux.Handle("GET /api/records/{pid}", http.HandlerFunc(a.apiGet))
	mux.Handle("PUT /api/records/{pid}", small(http.HandlerFunc(a.apiUpdate)))
	mux.Handle("DELETE /api/records/{pid}", http.HandlerFunc(a.apiDelete))
	mux.Handle("GET /api/records/{pid}/revisions", http.HandlerFunc(a.apiRevisions))
	fh := a.filesHandler()
	mux.Handle("/api/records/{pid}/files", large(fh))
	mux.Handle("/api/records/{pid}/files/{key...}", large(fh))
	mux.Handle("POST /api/exports", small(http.HandlerFunc(a.apiExportStart)))
	mux.Handle("GET /api/exports/{id}", http.HandlerFunc(a.apiExportGet))
	mux.Handle("GET /api/exports/{id}/file", http.HandlerFunc(a.apiExportFile))
	mux.Handle("GET /api/me", http.HandlerFunc(a.apiMe))

	// Web UI; anonymous GETs of search and record pages go through the page
	// cache, tagged so that a record change (record pages) or an index
	// change (search pages) purges them.
	cached := func(tags func(*http.Request) []string, h http.HandlerFunc) http.Handler {
		return a.pages.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pagecache.AddTags(r.Context(), tags(r)...)
			h(w, r)
		}))
	}
	searchTags := func(*http.Request) []string { return []string{indexTag("records")} }
	recordTags := func(r *http.Request) []string { return []string{recordTag(r.PathValue("pid"))} }
	mux.Handle("GET /{$}", cached(searchTags, a.webSearch))
	mux.Handle("GET /search", cached(searchTags, a.webSearch))
	mux.Handle("GET /records/{pid}", cached(recordTags, a.webRecord))
	mux.Handle("GET /deposit", http.HandlerFunc(a.webDepositForm))
	mux.Handle("POST /deposit", large(http.HandlerFunc(a.webDeposit)))
	mux.Handle("GET /records/{pid}/edit", http.HandlerFunc(a.webEditForm))
	mux.Handle("POST /records/{pid}/edit", small(http.HandlerFunc(a.webEdit)))
	mux.Handle("POST /records/{pid}/upload", large(http.HandlerFunc(a.webUpload)))
	mux.Handle("POST /records/{pid}/delete", small(http.HandlerFunc(a.webDelete)))
	mux.Handle("GET /login", http.HandlerFunc(a.webLoginForm))
	mux.Handle("POST /login", small(http.HandlerFunc(a.webLogin)))
	mux.Handle("POST /logout", small(http.HandlerFunc(a.webLogout)))
	mux.Handle("GET /account", http.HandlerFunc(a.webAccount))
	mux.Handle("POST /account/tokens", small(http.HandlerFunc(a.webCreateToken)))

	var h http.Handler = mux
	h = a.authenticate(h)
	h = a.sessions.Middleware(h)
	h = securityHeaders(h)
	return h
}

// filesHandler serves a record's files with fileshttp under
// /api/records/{pid}/files: the record is resolved first (410 deleted, 301
// redirected, 404 hidden), then the request is rewritten onto the record's
// bucket and the library handler runs with the permission hook.
func (a *App) filesHandler() http.Handler {
	opts := []fileshttp.Option{fileshttp.WithPermission(filesPermission), fileshttp.WithLogger(a.log)}
	if a.cfg.AccelPrefix != "" {
		prefix := strings.TrimRight(a.cfg.AccelPrefix, "/")
		opts = append(opts, fileshttp.WithAccelRedirect(func(f *files.FileInstance) string {
			return prefix + "/" + f.Location + "/" + f.StorageKey
		}))
	} else if a.cfg.OffloadMinSize > 0 {
		opts = append(opts, fileshttp.WithSignedRedirect(a.cfg.OffloadMinSize, 10*time.Minute))
	}
	fh := fileshttp.New(a.files, opts...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recid := r.PathValue("pid")
		_, s, err := a.resolve(r.Context(), recid)
		if err != nil {
			if a.redirectPID(w, r, err, "/api/records/", "/files"+strings.TrimPrefix(r.URL.Path, "/api/records/"+recid+"/files")) {
				return
			}
			a.writeError(w, r, err)
			return
		}
		if !actorOf(r.Context()).canRead(s) {
			a.writeError(w, r, files.ErrNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && a.checkCSRF(r, r.Header.Get("X-CSRF-Token")) != nil {
			a.writeError(w, r, errForbidden)
			return
		}
		r2 := r.Clone(context.WithValue(r.Context(), recordInCtx{}, s))
		r2.URL.Path = "/" + s.Bucket
		if key := r.PathValue("key"); key != "" {
			r2.URL.Path += "/" + key
		}
		r2.URL.RawPath = ""
		fh.ServeHTTP(w, r2)
	})
}

func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	res := a.Ready(ctx)
	out := map[string]string{}
	status := http.StatusOK
	for k, err := range res {
		if err != nil {
			a.log.Warn("readiness check failed", "driver", k, "err", err)
			out[k] = "unavailable"
			status = http.StatusServiceUnavailable
		} else {
			out[k] = "ok"
		}
	}
	writeJSON(w, status, out)
}

// limitBody caps request bodies of a route class.
func limitBody(n int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			httperr.Write(w, r, nil, &http.MaxBytesError{Limit: n})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("X-Frame-Options", "DENY")
		}
		h.ServeHTTP(w, r)
	})
}

// authenticate puts the actor of the request in its context: a Bearer
// personal token, else the session's user, else anonymous. Unsafe API
// requests authenticated by the session cookie need the CSRF header.
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				a.writeError(w, r, errUnauthenticated)
				return
			}
			u, err := a.users.ByToken(ctx, strings.TrimSpace(tok))
			if err != nil {
				a.writeError(w, r, errUnauthenticated)
				return
			}
			next.ServeHTTP(w, r.WithContext(withUser(ctx, u)))
			return
		}
		if s := session.FromContext(ctx); s != nil {
			if uid, ok := session.Get[string](s, "uid"); ok {
				if u, err := a.users.ByID(ctx, uid); err == nil {
					ctx = withUser(ctx, u)
					safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
					if !safe && strings.HasPrefix(r.URL.Path, "/api/") && a.checkCSRF(r.WithContext(ctx), r.Header.Get("X-CSRF-Token")) != nil {
						a.writeError(w, r, errForbidden)
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// csrfToken returns the session's CSRF token, creating it (which makes the
// session non-empty, so pages with forms are never page-cached).
func csrfToken(r *http.Request) string {
	s := session.FromContext(r.Context())
	if s == nil {
		return ""
	}
	if t, ok := session.Get[string](s, "csrf"); ok && t != "" {
		return t
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	_ = s.Set("csrf", t)
	return t
}

var errCSRF = errors.New("the form expired; reload the page and try again")

// checkCSRF compares a submitted token with the session's. Requests with a
// Bearer token carry no ambient credentials and need none.
func (a *App) checkCSRF(r *http.Request, got string) error {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return nil
	}
	s := session.FromContext(r.Context())
	if s == nil {
		return errCSRF
	}
	want, ok := session.Get[string](s, "csrf")
	if !ok || want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return errCSRF
	}
	return nil
}

// Serve runs the HTTP server on l until ctx is done, then shuts down
// gracefully: stop accepting, finish in-flight requests (up to timeout).
func (a *App) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing requests")
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
