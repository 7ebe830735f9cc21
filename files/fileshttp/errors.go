package fileshttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/storage"
)

// errf returns an error answered with status and the formatted text as its
// public message (the text names only what the request carried).
func errf(status int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return httperr.WithPublic(errors.New(msg), status, msg)
}

// denied is a refusal of the permission or bucket policy function: 404 if
// it says not found (hides that the thing exists), the refusal itself if it
// is one (repokit.ErrForbidden: 403, 401 if anonymous), else a 403 whose
// error matches access.ErrForbidden (and repokit.ErrForbidden) and keeps
// err for logs, as every refusal by policy does.
func denied(err error) error {
	switch {
	case errors.Is(err, files.ErrNotFound):
		return httperr.WithPublic(err, http.StatusNotFound, "not found")
	case errors.Is(err, repokit.ErrForbidden):
		return err
	case httperr.Status(err) == http.StatusForbidden || httperr.Status(err) == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", access.ErrForbidden, err) // keeps err's status and message
	}
	return httperr.WithPublic(fmt.Errorf("%w: %w", access.ErrForbidden, err), http.StatusForbidden, "permission denied")
}

// writeError answers err with httperr's status and public message (files'
// user errors carry their own detailed, safe message). A body that ended
// early is the client's fault here (400), not the server's.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(err, io.ErrUnexpectedEOF) && httperr.Status(err) == http.StatusInternalServerError {
		err = httperr.WithPublic(err, http.StatusBadRequest, "the request body ended before its announced length")
	}
	b := httperr.BodyOf(err)
	switch {
	case b.Status >= 500:
		log.Error("fileshttp: request failed", "method", r.Method, "path", r.URL.Path, "status", b.Status, "err", err)
	case errors.Is(err, storage.ErrNotFound):
		// A row whose bytes are gone: the client sees 404, operators must
		// hear about it.
		log.Error("fileshttp: stored bytes missing", "method", r.Method, "path", r.URL.Path, "status", b.Status, "err", err)
	default:
		log.Debug("fileshttp: request refused", "method", r.Method, "path", r.URL.Path, "status", b.Status, "err", err)
	}
	if b.Status == 499 {
		b.Status = http.StatusBadRequest // client closed the request; nobody reads it
	}
	writeErrorBody(w, b)
}

// writeErrorBody writes the JSON error document, dropping the headers that
// describe a file (an error is not the file).
func writeErrorBody(w http.ResponseWriter, b httperr.Body) {
	h := w.Header()
	for _, k := range []string{"Content-Disposition", "ETag", "Last-Modified", "Content-Encoding", "Accept-Ranges",
		"Content-Length", "X-Version-Id", "X-Checksum-SHA256"} {
		h.Del(k)
	}
	if b.Status != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range") // a 416 keeps "bytes */size" (RFC 9110)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if b.Status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="repokit"`)
	}
	w.WriteHeader(b.Status)
	_ = json.NewEncoder(w).Encode(b)
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
		writeErrorBody(w.ResponseWriter, httperr.Body{Status: status, Message: "precondition failed"})
	case http.StatusRequestedRangeNotSatisfiable:
		w.failed = true
		writeErrorBody(w.ResponseWriter, httperr.Body{Status: status, Message: "range not satisfiable"})
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
