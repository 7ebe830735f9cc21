package files

import (
	"errors"
	"fmt"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrNotFound: the bucket, object, version, file or upload does not exist
	// (or the bucket is soft-deleted).
	ErrNotFound = errors.New("files: not found")
	// ErrInvalid: bad input (size, part number, option...).
	ErrInvalid = errors.New("files: invalid")
	// ErrInvalidKey: an object key failed validation. It matches ErrInvalid.
	ErrInvalidKey = fmt.Errorf("%w object key", ErrInvalid)
	// ErrConflict: the operation conflicts with the current state (an upload
	// already completed, a version that is already head...).
	ErrConflict = errors.New("files: conflict")
	// ErrLocked: the bucket is locked and refuses writes.
	ErrLocked = errors.New("files: bucket is locked")
	// ErrQuotaExceeded: the write would take the bucket over its quota. It
	// matches ErrTooLarge.
	ErrQuotaExceeded = fmt.Errorf("%w: bucket quota exceeded", ErrTooLarge)
	// ErrFileTooLarge: the file is larger than the bucket's maximum file size.
	// It matches ErrTooLarge.
	ErrFileTooLarge = fmt.Errorf("%w: larger than the bucket's maximum file size", ErrTooLarge)
)
