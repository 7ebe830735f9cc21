// Package httperr maps the errors of every RepoKit package to an HTTP
// status and a message that is safe to show to end users: no internal ids,
// storage keys, chains of package prefixes or Go time layouts. The full
// error stays available to logs (and to errors.Is / errors.As).
//
// The status depends on the error's kind only (see package repokit: every
// package's sentinels are of one of its kinds), so one mapping serves every
// package, and a host's own errors made with repokit.NewError map too.
//
//	if err != nil {
//		httperr.Write(w, r, logger, err) // {"status":404,"message":"not found"}
//		return
//	}
//
// Errors carrying their own safe text implement Public (or are wrapped with
// WithPublic); schema failures list their fields; search query errors say
// where the query is wrong.
package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/storage"
)

// Public is an error that knows its own safe message.
type Public interface {
	error
	PublicMessage() string
}

// WithPublic returns err with msg as its public message; status, if not 0,
// overrides the status Status would give. errors.Is/As still see err.
func WithPublic(err error, status int, msg string) error {
	return &public{err: err, status: status, msg: msg}
}

type public struct {
	err    error
	status int
	msg    string
}

func (p *public) Error() string         { return p.err.Error() }
func (p *public) Unwrap() error         { return p.err }
func (p *public) PublicMessage() string { return p.msg }

// statuses maps each error kind (repokit.Kinds) to its status and public
// message. This is the whole mapping: every package's sentinels are of one
// of these kinds.
var statuses = map[error]struct {
	status int
	msg    string
}{
	repokit.ErrForbidden:   {http.StatusForbidden, "forbidden"},
	repokit.ErrDeleted:     {http.StatusGone, "this has been deleted"},
	repokit.ErrRedirected:  {http.StatusMovedPermanently, "this identifier has moved"},
	repokit.ErrNotFound:    {http.StatusNotFound, "not found"},
	repokit.ErrExists:      {http.StatusConflict, "the request conflicts with the current state (reload and retry)"},
	repokit.ErrConflict:    {http.StatusConflict, "the request conflicts with the current state (reload and retry)"},
	repokit.ErrTooLarge:    {http.StatusRequestEntityTooLarge, "too large"},
	repokit.ErrInvalid:     {http.StatusBadRequest, "invalid request"},
	repokit.ErrUnsupported: {http.StatusNotImplemented, "not supported by this server"},
	repokit.ErrUnavailable: {http.StatusServiceUnavailable, "the service is temporarily unavailable"},
	repokit.ErrClosed:      {http.StatusServiceUnavailable, "the service is temporarily unavailable"},
}

// messages are more precise public messages for some sentinels, most
// specific first; the status stays the one of their kind.
var messages = []struct {
	err error
	msg string
}{
	{records.ErrDeleted, "this record has been deleted"},
	{pid.ErrDeleted, "this record has been deleted"},
	{files.ErrLocked, "the files of this record are locked"},
	{records.ErrSchema, "the document does not match its schema"},
	{records.ErrNoSchema, `the document must name its "$schema"`},
	{records.ErrUnknownSchema, `the document's "$schema" is not known here`},
	{files.ErrQuotaExceeded, "the bucket's quota would be exceeded"},
	{files.ErrFileTooLarge, "the file is larger than allowed"},
	{storage.ErrSizeMismatch, "the body's size does not match the announced size"},
	{storage.ErrChecksumMismatch, "the body's checksum does not match the announced checksum"},
	{files.ErrInvalidKey, "invalid file name"},
	{search.ErrBadQuery, "the search query is not valid"},
}

// Status returns the HTTP status for err, by its kind (repokit.KindOf),
// whichever package it comes from: 403 for repokit.ErrForbidden (401 if
// the caller is anonymous), 410 for ErrDeleted, 301 for ErrRedirected, 404
// for ErrNotFound, 409 for ErrExists and ErrConflict, 413 for ErrTooLarge,
// 400 for ErrInvalid, 501 for ErrUnsupported, 503 for ErrUnavailable and
// ErrClosed; 499 for a canceled context, 504 for a deadline, 413 for an
// *http.MaxBytesError, 500 otherwise. nil gives 200; WithPublic may
// override the status.
func Status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var p *public
	if errors.As(err, &p) && p.status != 0 {
		return p.status
	}
	var fe *access.ForbiddenError
	if errors.As(err, &fe) && fe.Anonymous {
		return http.StatusUnauthorized
	}
	if status, _, ok := byKind(err); ok {
		return status
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// byKind returns the status and the public message of err's kind.
func byKind(err error) (int, string, bool) {
	switch {
	case errors.Is(err, context.Canceled):
		return 499, "request canceled", true
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "the request took too long", true
	}
	if s, ok := statuses[repokit.KindOf(err)]; ok {
		return s.status, s.msg, true
	}
	return 0, "", false
}

// PublicMessage returns a message for err that is safe to show: the
// error's own if it implements Public, the text of access refusals and
// search query errors (which name only what the user sent), a fixed text
// for some sentinels or else for the error's kind; "internal server error"
// for anything unknown.
func PublicMessage(err error) string {
	if err == nil {
		return ""
	}
	var pub Public
	if errors.As(err, &pub) {
		return pub.PublicMessage()
	}
	var fe *access.ForbiddenError
	if errors.As(err, &fe) {
		if fe.Anonymous {
			return "sign in to " + string(fe.Action) + " this " + orResource(fe.ResourceType)
		}
		return "you are not allowed to " + string(fe.Action) + " this " + orResource(fe.ResourceType)
	}
	var qe *search.QueryError
	if errors.As(err, &qe) {
		if qe.Pos >= 0 {
			return "invalid " + qe.Param + " at position " + strconv.Itoa(qe.Pos) + ": " + qe.Msg
		}
		return "invalid " + qe.Param + ": " + qe.Msg
	}
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		for _, m := range messages {
			if errors.Is(err, m.err) {
				return m.msg
			}
		}
	}
	if _, msg, ok := byKind(err); ok {
		return msg
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "the request body is too large"
	}
	return "internal server error"
}

func orResource(t string) string {
	if t == "" {
		return "resource"
	}
	return t
}

// FieldError is one failing field of a document, in Invenio's error shape:
// the field as a dotted path ("metadata.title"; "" for the document itself)
// and every reason it fails.
type FieldError struct {
	Field    string   `json:"field"`
	Messages []string `json:"messages"`
}

// Body is the JSON error document Write sends.
type Body struct {
	Status  int          `json:"status"`
	Message string       `json:"message"`
	Errors  []FieldError `json:"errors,omitempty"`
}

// BodyOf returns the error document for err: status, public message, and
// for schema failures each failing field and why (one entry per field, in
// order of first failure).
func BodyOf(err error) Body {
	b := Body{Status: Status(err), Message: PublicMessage(err)}
	var ve *records.ValidationError
	if errors.As(err, &ve) {
		at := map[string]int{}
		for _, f := range ve.Errors {
			field := strings.ReplaceAll(strings.TrimPrefix(f.Path, "/"), "/", ".")
			if i, ok := at[field]; ok {
				b.Errors[i].Messages = append(b.Errors[i].Messages, f.Message)
				continue
			}
			at[field] = len(b.Errors)
			b.Errors = append(b.Errors, FieldError{Field: field, Messages: []string{f.Message}})
		}
	}
	return b
}

// Write sends err as a JSON error document with its status. Server errors
// (5xx) are logged with the full error, the method and the path (log nil =
// slog.Default()); 499 is sent as 400 (nobody reads it).
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	b := BodyOf(err)
	if b.Status >= 500 {
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", b.Status, "err", err)
	}
	if b.Status == 499 {
		b.Status = http.StatusBadRequest
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if b.Status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="repokit"`)
	}
	w.WriteHeader(b.Status)
	_ = json.NewEncoder(w).Encode(b)
}
