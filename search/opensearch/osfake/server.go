// Package osfake is a FAKE OpenSearch: an in-process HTTP test double
// (httptest.Server) of exactly the REST subset that search/opensearch uses,
// written from OpenSearch's documentation. It is not OpenSearch and must not
// be mistaken for it; it exists because no OpenSearch server can run on the
// CI machines. What it implements, with OpenSearch's observable semantics:
//
//   - index create/delete/exists, GET/PUT _mapping (additive merge, type
//     conflicts rejected), aliases (GET /_alias, atomic POST /_aliases);
//   - _bulk with per-item results and version_type=external_gte: an item with
//     a lower version than the stored one (live or deleted) is a 409
//     version_conflict_engine_exception, deletes keep their version as a
//     tombstone (for ever here; OpenSearch forgets after index.gc_deletes),
//     mapped field types are checked (400 mapper_parsing_exception);
//   - refresh visibility: writes become searchable only after _refresh or a
//     write with ?refresh=true|wait_for;
//   - _search with the query DSL the driver emits (match_all, match_none,
//     term, terms, match, multi_match, match_phrase, prefix, wildcard, range,
//     bool), post_filter, terms and filter aggregations, sort with missing
//     _last, search_after, from/size, track_total_hits, version, _source,
//     point in time (POST /<index>/_search/point_in_time: a snapshot of the
//     searchable documents).
//
// Scoring is a crude term-frequency sum, text analysis a lowercase split on
// non-alphanumerics: good enough to rank a document matching more terms
// higher, not to reproduce BM25.
package osfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Request is a request the fake received (when recording).
type Request struct {
	Method string
	Path   string
	Query  string
	Body   []byte
	// Status and Response are the fake's answer.
	Status   int
	Response []byte
}

// Server is the fake OpenSearch.
type Server struct {
	// Username/Password, when set, are required as HTTP basic auth.
	Username, Password string
	// RefreshInterval is index.refresh_interval: writes become visible to
	// searches made that long after the last refresh (0 = OpenSearch's
	// default, 1s; negative = only on explicit refreshes).
	RefreshInterval time.Duration
	ts              *httptest.Server

	mu       sync.Mutex
	indices  map[string]*index
	aliases  map[string]map[string]bool
	pits     map[string]*pit
	nextPIT  int
	record   bool
	requests []Request

	afterBulk func(index string, items int)
}

// SetAfterBulk sets a function called after a _bulk request was applied and
// before its response is written (tests use it to kill a client between
// sending and acknowledging). nil removes it.
func (s *Server) SetAfterBulk(f func(index string, items int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterBulk = f
}

// New starts a fake server; Close it when done.
func New() *Server {
	s := &Server{indices: map[string]*index{}, aliases: map[string]map[string]bool{}, pits: map[string]*pit{}}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTLS starts a fake server over HTTPS with a self-signed certificate.
func NewTLS() *Server {
	s := &Server{indices: map[string]*index{}, aliases: map[string]map[string]bool{}, pits: map[string]*pit{}}
	s.ts = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.ts.URL }

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// Record starts (or stops) recording requests.
func (s *Server) Record(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record = on
	s.requests = nil
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

type httpError struct {
	status int
	typ    string
	reason string
}

func (e *httpError) Error() string { return e.typ + ": " + e.reason }

func errf(status int, typ, format string, args ...any) *httpError {
	return &httpError{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, e *httpError) {
	writeJSON(w, e.status, map[string]any{
		"error":  map[string]any{"type": e.typ, "reason": e.reason, "root_cause": []any{map[string]any{"type": e.typ, "reason": e.reason}}},
		"status": e.status,
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.Username != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.Username || p != s.Password {
			writeErr(w, errf(401, "security_exception", "missing or wrong authentication credentials"))
			return
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeErr(w, errf(400, "parse_exception", "read body: %v", err))
		return
	}
	s.mu.Lock()
	if s.record {
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
		rw := &recorder{ResponseWriter: w, status: 200}
		w = rw
		defer s.recorded(len(s.requests)-1, rw)
	}
	s.mu.Unlock()

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	q := r.URL.Query()
	var status int
	var out any
	var herr *httpError
	switch {
	case s.moreRoute(r.Method, parts):
		status, out, herr = s.serveMore(r.Method, parts, q, body)
	case len(parts) == 0 && r.Method == http.MethodGet:
		status, out = 200, map[string]any{"name": "osfake", "cluster_name": "osfake", "version": map[string]any{"distribution": "opensearch", "number": "2.11.0"}, "tagline": "FAKE OpenSearch test double"}
	case len(parts) == 1 && parts[0] == "_aliases" && r.Method == http.MethodPost:
		status, out, herr = s.updateAliases(body)
	case len(parts) == 2 && parts[0] == "_alias" && r.Method == http.MethodGet:
		status, out, herr = s.getAlias(parts[1])
	case len(parts) == 1 && parts[0] == "_search":
		status, out, herr = s.search("", q, body)
	case len(parts) == 2 && parts[0] == "_search" && parts[1] == "point_in_time" && r.Method == http.MethodDelete:
		status, out, herr = s.deletePIT(body)
	case len(parts) == 1 && !strings.HasPrefix(parts[0], "_"):
		name := parts[0]
		switch r.Method {
		case http.MethodHead:
			s.mu.Lock()
			_, ok := s.indices[name]
			_, ok2 := s.aliases[name]
			s.mu.Unlock()
			if ok || ok2 {
				w.WriteHeader(200)
			} else {
				w.WriteHeader(404)
			}
			return
		case http.MethodPut:
			status, out, herr = s.createIndex(name, body)
		case http.MethodDelete:
			status, out, herr = s.deleteIndex(name)
		default:
			herr = errf(405, "method_not_allowed", "%s /%s", r.Method, name)
		}
	case len(parts) == 2 && parts[1] == "_mapping":
		switch r.Method {
		case http.MethodGet:
			status, out, herr = s.getMapping(parts[0])
		case http.MethodPut, http.MethodPost:
			status, out, herr = s.putMapping(parts[0], body)
		}
	case len(parts) == 2 && parts[1] == "_bulk" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		var concrete string
		var n int
		status, out, concrete, n, herr = s.bulk(parts[0], q, body)
		s.mu.Lock()
		hook := s.afterBulk
		s.mu.Unlock()
		if herr == nil && hook != nil {
			hook(concrete, n)
		}
	case len(parts) == 2 && parts[1] == "_refresh":
		status, out, herr = s.refresh(parts[0])
	case len(parts) == 2 && parts[1] == "_search":
		status, out, herr = s.search(parts[0], q, body)
	case len(parts) == 3 && parts[1] == "_search" && parts[2] == "point_in_time" && r.Method == http.MethodPost:
		status, out, herr = s.openPIT(parts[0], q.Get("keep_alive"))
	}
	if herr != nil {
		writeErr(w, herr)
		return
	}
	if out == nil && status == 0 {
		writeErr(w, errf(400, "illegal_argument_exception", "osfake does not implement %s %s", r.Method, r.URL.Path))
		return
	}
	writeJSON(w, status, out)
}

func decodeBody(body []byte, v any) *httpError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errf(400, "parse_exception", "request body: %v", err)
	}
	return nil
}
