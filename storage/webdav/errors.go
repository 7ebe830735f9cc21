package webdav

import (
	"fmt"
	"net/http"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/storage"
)

// Errors specific to WebDAV servers. Each also matches the storage sentinel
// named in its comment, so callers that only know the storage package test
// for those.
var (
	// ErrLocked: the server answered 423 Locked (another client holds a
	// WebDAV lock on the resource). Matches storage.ErrUnavailable.
	ErrLocked = fmt.Errorf("webdav: resource locked: %w", storage.ErrUnavailable)
	// ErrServer: the server answered 5xx. Matches storage.ErrUnavailable.
	ErrServer = fmt.Errorf("webdav: server error: %w", storage.ErrUnavailable)
	// ErrConnection: the connection failed or was closed mid-transfer.
	// Matches storage.ErrUnavailable.
	ErrConnection = fmt.Errorf("webdav: connection lost: %w", storage.ErrUnavailable)
	// ErrAuth: the server refused the credentials (401, 403). Kind
	// repokit.ErrUnavailable: the storage is unusable until its
	// configuration is fixed, which is no refusal of the end user.
	ErrAuth = repokit.NewError("webdav: not authorized", repokit.ErrUnavailable)
)

// StatusError is an unexpected HTTP answer of the WebDAV server. It matches
// (errors.Is) the sentinel of its status: storage.ErrNotFound (404, 410),
// storage.ErrInsufficientStorage (507), ErrLocked (423), ErrServer (5xx),
// ErrAuth (401, 403), storage.ErrUnsupported (405, 501 for methods the
// driver has no fallback for), storage.ErrInvalid (400, 409, 412, 414, 415).
type StatusError struct {
	Method string // HTTP method
	Key    string // the key (or collection) it was sent for
	Code   int    // HTTP status code
	Body   string // the first bytes of the answer's body, for logs
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("webdav: %s %q: %d %s", e.Method, e.Key, e.Code, http.StatusText(e.Code))
}

// Unwrap returns the sentinel of the status (nil if none fits).
func (e *StatusError) Unwrap() error { return statusSentinel(e.Code) }

func statusSentinel(code int) error {
	switch {
	case code == http.StatusNotFound || code == http.StatusGone:
		return storage.ErrNotFound
	case code == http.StatusInsufficientStorage:
		return storage.ErrInsufficientStorage
	case code == http.StatusLocked:
		return ErrLocked
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrAuth
	case code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented:
		return storage.ErrUnsupported
	case code == http.StatusRequestEntityTooLarge:
		return storage.ErrTooLarge
	case code >= 500:
		return ErrServer
	case code == http.StatusBadRequest || code == http.StatusConflict || code == http.StatusPreconditionFailed ||
		code == http.StatusRequestURITooLong || code == http.StatusUnsupportedMediaType:
		return storage.ErrInvalid
	}
	return nil
}

// connError marks a transport failure (connection refused, reset, closed
// mid-body) as ErrConnection while keeping the cause.
type connError struct {
	op  string
	key string
	err error
}

func (e *connError) Error() string {
	return fmt.Sprintf("webdav: %s %q: connection lost: %v", e.op, e.key, e.err)
}

func (e *connError) Unwrap() []error { return []error{ErrConnection, e.err} }
