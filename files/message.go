package files

import (
	"errors"
	"fmt"
)

// userError is an error whose message is meant for end users: a phrase
// for its kind (a sentinel) and a detail that names only what the client
// sent or can see (keys, bucket, version and upload ids, sizes), never a
// storage key, a file instance id or the layers below. An internal cause,
// if any, shows in Error (for logs) but not in Message.
type userError struct {
	kind  error
	msg   string
	cause error
}

func (e *userError) Error() string {
	s := e.kind.Error() + ": " + e.msg
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// PublicMessage is Message(e): it makes e an httperr.Public, so HTTP error
// answers show the detail.
func (e *userError) PublicMessage() string { return Message(e) }

func (e *userError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// userf returns an error matching kind whose Message is kind's phrase
// followed by the formatted detail.
func userf(kind error, format string, args ...any) error {
	return &userError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// userCause is userf with an internal cause (logged, not shown).
func userCause(kind, cause error, format string, args ...any) error {
	return &userError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// phrases name the kinds of errors for end users, most specific first.
var phrases = []struct {
	err    error
	phrase string
}{
	{ErrInvalidKey, "invalid object key"},
	{ErrQuotaExceeded, "bucket quota exceeded"},
	{ErrFileTooLarge, "larger than the bucket's maximum file size"},
	{ErrTooLarge, "too large"},
	{ErrSizeMismatch, "the bytes received do not have the announced size"},
	{ErrChecksumMismatch, "the bytes received do not match their checksum"},
	{ErrNotFound, "not found"},
	{ErrLocked, "bucket is locked"},
	{ErrConflict, "conflict"},
	{ErrInvalid, "invalid request"},
	{ErrUnsupported, "not supported by the storage location"},
}

// Message returns the text of err meant for end users (HTTP error bodies):
// it never names storage keys, file instance ids or internal layers, which
// stay in err.Error() for logs. It returns "" when err is not one of this
// package's kinds (an internal error: show a generic message).
func Message(err error) string {
	var ue *userError
	if errors.As(err, &ue) {
		return phraseOf(ue.kind) + ": " + ue.msg
	}
	return phraseOf(err)
}

func phraseOf(err error) string {
	for _, p := range phrases {
		if errors.Is(err, p.err) {
			return p.phrase
		}
	}
	return ""
}
