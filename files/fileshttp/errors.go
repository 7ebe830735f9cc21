package fileshttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/storage"
)

// httpError is an error with a chosen status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

type permissionError struct{ err error }

func (e *permissionError) Error() string { return "permission denied: " + e.err.Error() }
func (e *permissionError) Unwrap() error { return e.err }

// statusOf maps an error to its HTTP status: the one place where sentinel
// errors become status codes.
func statusOf(err error) int {
	var he *httpError
	var pe *permissionError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &pe):
		if errors.Is(pe.err, files.ErrNotFound) {
			return http.StatusNotFound
		}
		return http.StatusForbidden
	case errors.Is(err, files.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, files.ErrLocked):
		return http.StatusForbidden
	case errors.Is(err, files.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, files.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, files.ErrInvalid), errors.Is(err, files.ErrSizeMismatch),
		errors.Is(err, files.ErrChecksumMismatch), errors.Is(err, storage.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, files.ErrUnsupported):
		return http.StatusNotImplemented
	case errors.Is(err, io.ErrUnexpectedEOF):
		return http.StatusBadRequest // the client sent less than it announced
	case errors.Is(err, context.Canceled):
		return 499 // client closed the request; nobody reads it
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON error document.
type errorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status >= 500 {
		log.Error("fileshttp: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		if status == http.StatusInternalServerError {
			msg = "internal server error"
		}
	}
	h := w.Header()
	for _, k := range []string{"Content-Disposition", "ETag", "Last-Modified", "Content-Encoding", "Content-Range", "Accept-Ranges"} {
		h.Del(k)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == 499 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Status: status, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
