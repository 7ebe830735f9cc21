package session

import (
	"context"
	"net/http"
	"sync"

	"github.com/repokit/repokit/cache"
)

type ctxKey struct{}

// NewContext returns ctx carrying s.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the session the middleware attached, or nil.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}

// Middleware loads the request's session into its context (FromContext) and
// saves it just before the response headers are written, or after next
// returns if it wrote nothing. Changes made after the first byte of the
// body are not saved (cookies cannot follow the headers). A cache failure
// is logged and the request still runs, with a fresh session: a cache
// outage logs users out, it does not take the site down.
func (st *Store) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s, err := st.Load(ctx, r)
		if err != nil {
			st.o.log.Log(ctx, cache.LogLevel(err), "session: cache unavailable, using a fresh session", "err", err)
		}
		sw := &saveWriter{ResponseWriter: w}
		sw.save = func() {
			if err := st.Save(ctx, w, s); err != nil {
				st.o.log.Log(ctx, cache.LogLevel(err), "session: not saved", "err", err)
			}
		}
		next.ServeHTTP(sw, r.WithContext(NewContext(ctx, s)))
		sw.commit()
	})
}

// saveWriter saves the session once, before anything reaches the client.
type saveWriter struct {
	http.ResponseWriter
	once sync.Once
	save func()
}

func (w *saveWriter) commit() { w.once.Do(w.save) }

// WriteHeader saves the session, then writes the header.
func (w *saveWriter) WriteHeader(code int) {
	w.commit()
	w.ResponseWriter.WriteHeader(code)
}

// Write saves the session, then writes b.
func (w *saveWriter) Write(b []byte) (int, error) {
	w.commit()
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *saveWriter) Flush() {
	w.commit()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *saveWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
