package main

// Error → HTTP mapping of the example: every library sentinel error the
// handlers can meet becomes a status and a message safe to show (no ids,
// keys or layers); details go to the log. When the library grows an
// error-mapping seam, replace this file with it.

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/tasks"
)

// FieldErr is one field error in Invenio's error shape.
type FieldErr struct {
	Field    string   `json:"field"`
	Messages []string `json:"messages"`
}

// apiError is the JSON body of every error answer.
type apiError struct {
	Status  int        `json:"status"`
	Message string     `json:"message"`
	Errors  []FieldErr `json:"errors,omitempty"`
}

var errPreconditionRequired = errors.New("If-Match with the record's ETag is required")

// classify maps an error to an HTTP status and a user-safe message.
func classify(err error) (int, string, []FieldErr) {
	var ve *records.ValidationError
	var qe *search.QueryError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		var fes []FieldErr
		for _, fe := range ve.Errors {
			field := strings.ReplaceAll(strings.TrimPrefix(fe.Path, "/"), "/", ".")
			fes = append(fes, FieldErr{Field: field, Messages: []string{fe.Message}})
		}
		return http.StatusBadRequest, "A validation error occurred.", fes
	case errors.As(err, &qe):
		return http.StatusBadRequest, "Invalid search: " + qe.Msg, []FieldErr{{Field: qe.Param, Messages: []string{qe.Msg}}}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "The request body is too large.", nil
	case errors.Is(err, errBadJSON):
		return http.StatusBadRequest, err.Error(), nil
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized, "Authentication required.", nil
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "Permission denied.", nil
	case errors.Is(err, errPreconditionRequired):
		return http.StatusPreconditionRequired, err.Error() + ".", nil
	case errors.Is(err, pid.ErrPIDDeleted), errors.Is(err, records.ErrDeleted):
		return http.StatusGone, "The record has been deleted.", nil
	case errors.Is(err, pid.ErrPIDNotFound), errors.Is(err, pid.ErrPIDUnregistered), errors.Is(err, pid.ErrObjectMissing),
		errors.Is(err, records.ErrNotFound), errors.Is(err, files.ErrNotFound), errors.Is(err, tasks.ErrNotFound),
		errors.Is(err, search.ErrNotFound):
		return http.StatusNotFound, "Not found.", nil
	case errors.Is(err, records.ErrConflict):
		return http.StatusPreconditionFailed, "The record has changed since you read it; read it again.", nil
	case errors.Is(err, records.ErrTooLarge), errors.Is(err, storage.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "Too large.", nil
	case errors.Is(err, records.ErrInvalid), errors.Is(err, search.ErrBadQuery), errors.Is(err, files.ErrInvalid):
		return http.StatusBadRequest, "Invalid request.", nil
	case errors.Is(err, errBadLogin), errors.Is(err, errUserExists):
		return http.StatusBadRequest, err.Error(), nil
	}
	return http.StatusInternalServerError, "Internal server error.", nil
}

// writeError answers with the JSON error of err, logging server errors.
func (a *App) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, fes := classify(err)
	if status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, apiError{Status: status, Message: msg, Errors: fes})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
