package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// fakeDataCite implements the DataCite REST API endpoints the client uses
// (POST /dois, PUT /dois/{id}) with basic auth and JSON:API bodies, and
// fails the first failFirst requests of every DOI with 503.
type fakeDataCite struct {
	srv       *httptest.Server
	failFirst int

	mu    sync.Mutex
	calls map[string][]int // DOI → status of each request
	dois  map[string]json.RawMessage
}

func newFakeDataCite(t *testing.T, failFirst int) *fakeDataCite {
	f := &fakeDataCite{failFirst: failFirst, calls: map[string][]int{}, dois: map[string]json.RawMessage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /dois", func(w http.ResponseWriter, r *http.Request) { f.handle(w, r, "") })
	mux.HandleFunc("PUT /dois/{id...}", func(w http.ResponseWriter, r *http.Request) { f.handle(w, r, r.PathValue("id")) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDataCite) handle(w http.ResponseWriter, r *http.Request, pathID string) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != "REPO.TEST" || pass != "secret" {
		http.Error(w, `{"errors":[{"status":"401","title":"Bad credentials."}]}`, http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.api+json") {
		http.Error(w, `{"errors":[{"status":"415","title":"Unsupported media type"}]}`, http.StatusUnsupportedMediaType)
		return
	}
	var doc struct {
		Data struct {
			ID         string `json:"id"`
			Type       string `json:"type"`
			Attributes struct {
				DOI             string           `json:"doi"`
				Titles          []map[string]any `json:"titles"`
				Creators        []map[string]any `json:"creators"`
				Publisher       string           `json:"publisher"`
				PublicationYear int              `json:"publicationYear"`
				Types           map[string]any   `json:"types"`
				URL             string           `json:"url"`
			} `json:"attributes"`
		} `json:"data"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &doc); err != nil || doc.Data.Type != "dois" {
		http.Error(w, `{"errors":[{"status":"400","title":"Bad JSON:API document"}]}`, http.StatusBadRequest)
		return
	}
	at := doc.Data.Attributes
	doi := strings.ToLower(at.DOI)
	if pathID != "" {
		doi = strings.ToLower(pathID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.calls[doi])
	status := http.StatusCreated
	switch {
	case doi == "":
		status = http.StatusUnprocessableEntity
	case n < f.failFirst:
		status = http.StatusServiceUnavailable
	case len(at.Titles) == 0 || len(at.Creators) == 0 || at.Publisher == "" || at.PublicationYear == 0 || at.URL == "" || at.Types["resourceTypeGeneral"] == nil:
		status = http.StatusUnprocessableEntity
	case pathID == "" && f.dois[doi] != nil:
		status = http.StatusUnprocessableEntity
		f.calls[doi] = append(f.calls[doi], status)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"errors":[{"source":"doi","title":"This DOI has already been taken"}]}`)
		return
	case pathID != "":
		status = http.StatusOK
	}
	f.calls[doi] = append(f.calls[doi], status)
	if status >= 300 {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"errors":[{"title":"unavailable or invalid"}]}`)
		return
	}
	f.dois[doi] = body
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (f *fakeDataCite) statuses(doi string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.calls[doi]...)
}

// fakeSMTP is an in-process SMTP server (github.com/emersion/go-smtp)
// keeping every message.
type fakeSMTP struct {
	addr string
	mu   sync.Mutex
	msgs []mailMsg
}

type mailMsg struct {
	From, To, Data string
}

type smtpSession struct {
	f   *fakeSMTP
	msg mailMsg
}

func (s *smtpSession) Reset()        { s.msg = mailMsg{} }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = to
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = string(b)
	s.f.mu.Lock()
	s.f.msgs = append(s.f.msgs, s.msg)
	s.f.mu.Unlock()
	return nil
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	f := &fakeSMTP{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{f: f}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l := listen(t)
	f.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

func (f *fakeSMTP) messages() []mailMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mailMsg(nil), f.msgs...)
}
