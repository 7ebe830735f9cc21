// Package session is an HTTP session store on a cache.Cache, the Go
// counterpart of Invenio's Redis-backed Flask sessions.
//
// The cookie holds only a random 256-bit id; the data lives in the cache
// under a hash of that id (a dump of the cache yields no usable cookies).
// Sessions slide: each request that uses one pushes its expiry back by the
// idle TTL; an optional absolute lifetime caps that. Rotate changes the id
// (call it on login and privilege changes) and deletes the old entry, so an
// id planted by an attacker before login is worthless after it (session
// fixation). Ids the store did not issue are never adopted. Cookies are
// HttpOnly, Secure and SameSite=Lax by default.
//
//	st := session.New(c)
//	mux.Handle("/", st.Middleware(app))
//	// in a handler:
//	s := session.FromContext(r.Context())
//	s.Rotate(); s.Set("user", uid) // on login
package session

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Session is one client's session. Its methods are safe for concurrent use.
// Changes are written by Store.Save (the middleware calls it before the
// response headers go out).
type Session struct {
	mu        sync.Mutex
	id        string
	oldID     string // set by Rotate until saved
	values    map[string]json.RawMessage
	created   time.Time
	touched   time.Time // last write to the cache
	stored    bool      // exists in the cache under id
	dirty     bool
	destroyed bool
}

func newSession(now time.Time) *Session {
	return &Session{id: newID(), values: map[string]json.RawMessage{}, created: now}
}

// ID returns the session id (the cookie value). It changes on Rotate.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// IsNew reports whether the session was created for this request (no valid
// cookie came with it).
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stored && s.oldID == ""
}

// Created returns when the session began.
func (s *Session) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// Set stores v (JSON-encoded) under key.
func (s *Session) Set(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("session: encode %q: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = b
	s.dirty = true
	return nil
}

// Delete removes key.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[key]; ok {
		delete(s.values, key)
		s.dirty = true
	}
}

// Clear removes every value (the id stays; see Rotate and Destroy).
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) > 0 {
		s.values = map[string]json.RawMessage{}
		s.dirty = true
	}
}

// Keys returns the keys set in the session, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.values))
}

// Has reports whether key is set.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.values[key]
	return ok
}

// Decode decodes the value under key into dst; false if key is not set.
func (s *Session) Decode(key string, dst any) (bool, error) {
	s.mu.Lock()
	b, ok := s.values[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return true, fmt.Errorf("session: decode %q: %w", key, err)
	}
	return true, nil
}

// Get returns the value under key as a T; ok is false if key is not set or
// does not decode as a T.
func Get[T any](s *Session, key string) (v T, ok bool) {
	found, err := s.Decode(key, &v)
	return v, found && err == nil
}

// Rotate gives the session a new random id, keeping its values; the next
// Save stores it under the new id and deletes the old entry. Call it on
// login and on every privilege change.
func (s *Session) Rotate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stored && s.oldID == "" {
		s.oldID = s.id
	}
	s.id = newID()
	s.stored = false
	s.dirty = true
}

// Destroy ends the session (logout): the next Save deletes its entry and
// expires the cookie.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroyed = true
	s.values = map[string]json.RawMessage{}
}
