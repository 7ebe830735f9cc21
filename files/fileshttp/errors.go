package fileshttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

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

// publicMessage is the message of an error answer: what the client may
// see. It never carries storage keys, file instance ids or the layers an
// error went through (those go to the log).
func publicMessage(err error, status int) string {
	var he *httpError
	var pe *permissionError
	switch {
	case errors.As(err, &he):
		return he.msg
	case errors.As(err, &pe):
		if status == http.StatusNotFound {
			return "not found"
		}
		return "permission denied"
	}
	if m := files.Message(err); m != "" && status < 500 {
		return m
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "not found"
	case errors.Is(err, storage.ErrInvalid):
		return "invalid request"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the request body ended before its announced length"
	case errors.Is(err, context.Canceled):
		return "request cancelled"
	}
	if status == http.StatusInternalServerError {
		return "internal server error"
	}
	if t := http.StatusText(status); t != "" {
		return strings.ToLower(t)
	}
	return "error"
}

func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := statusOf(err)
	msg := publicMessage(err, status)
	switch {
	case status >= 500:
		log.Error("fileshttp: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	case errors.Is(err, storage.ErrNotFound):
		// A row whose bytes are gone: the client sees 404, operators must
		// hear about it.
		log.Error("fileshttp: stored bytes missing", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	default:
		log.Debug("fileshttp: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if status == 499 {
		status = http.StatusBadRequest
	}
	writeErrorBody(w, status, msg)
}

// writeErrorBody writes the JSON error document, dropping the headers that
// describe a file (an error is not the file).
func writeErrorBody(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	for _, k := range []string{"Content-Disposition", "ETag", "Last-Modified", "Content-Encoding", "Accept-Ranges",
		"Content-Length", "X-Version-Id", "X-Checksum-SHA256"} {
		h.Del(k)
	}
	if status != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range") // a 416 keeps "bytes */size" (RFC 9110)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Status: status, Message: msg})
}

// jsonErrors wraps the ResponseWriter handed to http.ServeContent, which
// answers failed preconditions (412) and unsatisfiable ranges (416) itself
// with text/plain and the file's headers: those become JSON error
// documents. It passes ReadFrom through so that an *os.File body still
// reaches sendfile.
type jsonErrors struct {
	http.ResponseWriter
	failed bool
}

func (w *jsonErrors) WriteHeader(status int) {
	if w.failed {
		return
	}
	switch status {
	case http.StatusPreconditionFailed:
		w.failed = true
		writeErrorBody(w.ResponseWriter, status, "precondition failed")
	case http.StatusRequestedRangeNotSatisfiable:
		w.failed = true
		writeErrorBody(w.ResponseWriter, status, "range not satisfiable")
	default:
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *jsonErrors) Write(p []byte) (int, error) {
	if w.failed {
		return len(p), nil // ServeContent's text/plain body
	}
	return w.ResponseWriter.Write(p)
}

func (w *jsonErrors) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok && !w.failed {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w}, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *jsonErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
