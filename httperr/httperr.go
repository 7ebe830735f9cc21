// Package httperr maps the errors of every RepoKit package to an HTTP
// status and a message that is safe to show to end users: no internal ids,
// storage keys, chains of package prefixes or Go time layouts. The full
// error stays available to logs (and to errors.Is / errors.As).
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

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/tasks"
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

// class is one row of the mapping: the errors that match it, their status
// and their public message.
type class struct {
	errs   []error
	status int
	msg    string
}

// classes is checked in order: more specific errors come first (a deleted
// record also matches records.ErrNotFound).
var classes = []class{
	{[]error{context.Canceled}, 499, "request canceled"},
	{[]error{context.DeadlineExceeded}, http.StatusGatewayTimeout, "the request took too long"},
	{[]error{records.ErrDeleted, pid.ErrPIDDeleted}, http.StatusGone, "this record has been deleted"},
	{[]error{pid.ErrPIDRedirected}, http.StatusMovedPermanently, "this identifier has moved"},
	{[]error{records.ErrNotFound, pid.ErrPIDNotFound, pid.ErrPIDUnregistered, pid.ErrObjectMissing,
		files.ErrNotFound, storage.ErrNotFound, search.ErrNotFound, tasks.ErrNotFound}, http.StatusNotFound, "not found"},
	{[]error{files.ErrLocked}, http.StatusForbidden, "the files of this record are locked"},
	{[]error{records.ErrSchema}, http.StatusBadRequest, "the document does not match its schema"},
	{[]error{records.ErrNoSchema}, http.StatusBadRequest, `the document must name its "$schema"`},
	{[]error{records.ErrUnknownSchema}, http.StatusBadRequest, `the document's "$schema" is not known here`},
	{[]error{files.ErrQuotaExceeded}, http.StatusRequestEntityTooLarge, "the bucket's quota would be exceeded"},
	{[]error{files.ErrFileTooLarge}, http.StatusRequestEntityTooLarge, "the file is larger than allowed"},
	{[]error{records.ErrTooLarge, files.ErrTooLarge, storage.ErrTooLarge, cache.ErrTooLarge}, http.StatusRequestEntityTooLarge, "too large"},
	{[]error{records.ErrConflict, files.ErrConflict, tasks.ErrConflict, pid.ErrPIDExists, pid.ErrAlreadyAssigned,
		pid.ErrInvalidTransition, search.ErrExists}, http.StatusConflict, "the request conflicts with the current state (reload and retry)"},
	{[]error{storage.ErrSizeMismatch}, http.StatusBadRequest, "the body's size does not match the announced size"},
	{[]error{storage.ErrChecksumMismatch}, http.StatusBadRequest, "the body's checksum does not match the announced checksum"},
	{[]error{files.ErrInvalidKey}, http.StatusBadRequest, "invalid file name"},
	{[]error{search.ErrBadQuery}, http.StatusBadRequest, "the search query is not valid"},
	{[]error{records.ErrInvalid, pid.ErrInvalid, files.ErrInvalid, storage.ErrInvalid, search.ErrInvalid,
		tasks.ErrInvalid, tasks.ErrBadArgs, tasks.ErrBadSchedule, tasks.ErrUnknownType, cache.ErrInvalid, cache.ErrInvalidKey}, http.StatusBadRequest, "invalid request"},
	{[]error{storage.ErrUnsupported, search.ErrUnsupported, files.ErrUnsupported}, http.StatusNotImplemented, "not supported by this server"},
	{[]error{cache.ErrUnavailable, search.ErrClosed, tasks.ErrClosed, cache.ErrClosed}, http.StatusServiceUnavailable, "the service is temporarily unavailable"},
}

func find(err error) (class, bool) {
	for _, c := range classes {
		for _, e := range c.errs {
			if errors.Is(err, e) {
				return c, true
			}
		}
	}
	return class{}, false
}

// Status returns the HTTP status for err: 403 (401 if anonymous) for
// access.ErrForbidden, 404 for every package's not-found, 410 for deleted
// records and PIDs, 409 for conflicts, 413 for size limits, 400 for bad
// input, 501 unsupported, 503 unavailable, 499 canceled, 504 deadline, 500
// otherwise. nil gives 200.
func Status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var p *public
	if errors.As(err, &p) && p.status != 0 {
		return p.status
	}
	var fe *access.ForbiddenError
	if errors.As(err, &fe) {
		if fe.Anonymous {
			return http.StatusUnauthorized
		}
		return http.StatusForbidden
	}
	if errors.Is(err, access.ErrForbidden) {
		return http.StatusForbidden
	}
	if c, ok := find(err); ok {
		return c.status
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// PublicMessage returns a message for err that is safe to show: the
// error's own if it implements Public, the text of access refusals and
// search query errors (which name only what the user sent), or a fixed text
// per kind of error; "internal server error" for anything unknown.
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
	if errors.Is(err, access.ErrForbidden) {
		return "forbidden"
	}
	var qe *search.QueryError
	if errors.As(err, &qe) {
		if qe.Pos >= 0 {
			return "invalid " + qe.Param + " at position " + strconv.Itoa(qe.Pos) + ": " + qe.Msg
		}
		return "invalid " + qe.Param + ": " + qe.Msg
	}
	if c, ok := find(err); ok {
		return c.msg
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
