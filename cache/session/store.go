package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/repokit/repokit/cache"
)

// DefaultCookieName is the session cookie's name unless WithCookieName says otherwise.
const DefaultCookieName = "repokit_session"

// DefaultTTL is the idle timeout unless WithTTL says otherwise.
const DefaultTTL = 24 * time.Hour

// Store loads and saves sessions in a cache. Create it with New.
type Store struct {
	c   *cache.Cache
	o   options
	now func() time.Time
}

type options struct {
	cookie   string
	ttl      time.Duration
	maxAge   time.Duration
	secure   bool
	sameSite http.SameSite
	path     string
	domain   string
	log      *slog.Logger
}

// Option configures a Store.
type Option func(*options)

// WithCookieName sets the cookie name (default DefaultCookieName).
func WithCookieName(name string) Option { return func(o *options) { o.cookie = name } }

// WithTTL sets the idle timeout: a session unused for d expires (default 24h).
// Every request that uses the session starts the period again.
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithMaxLifetime caps a session's total life however active it is (0: no cap,
// the default).
func WithMaxLifetime(d time.Duration) Option { return func(o *options) { o.maxAge = d } }

// WithSecure sets the cookie's Secure flag (default true; turn off only for
// plain-HTTP development).
func WithSecure(on bool) Option { return func(o *options) { o.secure = on } }

// WithSameSite sets the cookie's SameSite mode (default http.SameSiteLaxMode).
func WithSameSite(m http.SameSite) Option { return func(o *options) { o.sameSite = m } }

// WithPath sets the cookie path (default "/").
func WithPath(p string) Option { return func(o *options) { o.path = p } }

// WithDomain sets the cookie domain (default: host-only).
func WithDomain(d string) Option { return func(o *options) { o.domain = d } }

// WithLogger sets where cache failures during the middleware's load and save are
// reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// New returns a store keeping sessions in c under the namespace "session".
// The store holds no resources of its own (it has no Close): close c when
// done, after the HTTP server stopped.
func New(c *cache.Cache, opts ...Option) *Store {
	o := options{cookie: DefaultCookieName, ttl: DefaultTTL, secure: true, sameSite: http.SameSiteLaxMode,
		path: "/", log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.ttl <= 0 {
		o.ttl = DefaultTTL
	}
	return &Store{c: c.Namespace("session"), o: o, now: time.Now}
}

// CookieName returns the name of the session cookie.
func (st *Store) CookieName() string { return st.o.cookie }

// record is a session as stored in the cache.
type record struct {
	Values  map[string]json.RawMessage `json:"v"`
	Created int64                      `json:"c"` // Unix ms
	Touched int64                      `json:"t"` // Unix ms
}

// Load returns the request's session: the stored one its cookie names, or a
// new empty session when there is no cookie, the id is malformed, unknown or
// expired (an id the store did not issue is never adopted). On a cache
// failure it returns a new session and the error.
func (st *Store) Load(ctx context.Context, r *http.Request) (*Session, error) {
	now := st.now()
	ck, err := r.Cookie(st.o.cookie)
	if err != nil || !validID(ck.Value) {
		return newSession(now), nil
	}
	b, err := st.c.Get(ctx, storageKey(ck.Value))
	if errors.Is(err, cache.ErrMiss) {
		return newSession(now), nil
	}
	if err != nil {
		return newSession(now), fmt.Errorf("session: load: %w", err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil || rec.Values == nil {
		return newSession(now), nil
	}
	created := time.UnixMilli(rec.Created)
	if st.o.maxAge > 0 && now.Sub(created) >= st.o.maxAge {
		_ = st.c.Delete(ctx, storageKey(ck.Value))
		return newSession(now), nil
	}
	return &Session{id: ck.Value, values: rec.Values, created: created, touched: time.UnixMilli(rec.Touched), stored: true}, nil
}

// Save writes the session if needed and sets (or expires) the cookie on w;
// call it before the response headers are written (the middleware does).
//
//   - destroyed: the entry is deleted and the cookie expired;
//   - rotated: the old entry is deleted first; if that fails nothing is
//     stored under the new id and the error is returned, so a fixed id never
//     survives a login;
//   - changed, or unchanged but last written more than a tenth of the TTL
//     ago: written with the idle TTL (sliding expiry) and the cookie resent;
//   - new and empty: nothing is stored and no cookie is set.
func (st *Store) Save(ctx context.Context, w http.ResponseWriter, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := st.now()
	if st.o.maxAge > 0 && now.Sub(s.created) >= st.o.maxAge && (s.stored || s.oldID != "") {
		s.destroyed = true // past its absolute lifetime
	}
	if s.destroyed {
		var err error
		for _, id := range []string{s.oldID, s.id} {
			if id != "" {
				if e := st.c.Delete(ctx, storageKey(id)); e != nil {
					err = e
				}
			}
		}
		s.oldID, s.stored, s.dirty = "", false, false
		http.SetCookie(w, st.cookie("", -1))
		if err != nil {
			return fmt.Errorf("session: destroy: %w", err)
		}
		return nil
	}
	if s.oldID != "" {
		if err := st.c.Delete(ctx, storageKey(s.oldID)); err != nil {
			return fmt.Errorf("session: rotate: delete old id: %w", err)
		}
		s.oldID = ""
	}
	if !s.stored && len(s.values) == 0 && !s.dirty {
		return nil // a new, empty session costs nothing
	}
	if !s.dirty && s.stored && now.Sub(s.touched) < st.o.ttl/10 {
		return nil
	}
	ttl := st.o.ttl
	if st.o.maxAge > 0 {
		ttl = max(min(ttl, s.created.Add(st.o.maxAge).Sub(now)), time.Second)
	}
	b, err := json.Marshal(record{Values: s.values, Created: s.created.UnixMilli(), Touched: now.UnixMilli()})
	if err != nil {
		return fmt.Errorf("session: encode: %w", err)
	}
	if err := st.c.Set(ctx, storageKey(s.id), b, ttl); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	s.stored, s.dirty, s.touched = true, false, now
	http.SetCookie(w, st.cookie(s.id, int((ttl+time.Second-1)/time.Second)))
	return nil
}

func (st *Store) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: st.o.cookie, Value: value, Path: st.o.path, Domain: st.o.domain, MaxAge: maxAge,
		HttpOnly: true, Secure: st.o.secure, SameSite: st.o.sameSite}
}
