package files

import "github.com/repokit/repokit"

// Sentinel errors; test them with errors.Is. Each also matches the
// repokit error kind named in its comment.
var (
	// ErrNotFound: the bucket, object, version, file or upload does not exist
	// (or the bucket is soft-deleted). Kind repokit.ErrNotFound.
	ErrNotFound = repokit.NewError("files: not found", repokit.ErrNotFound)
	// ErrInvalid: bad input (size, part number, option...). Kind
	// repokit.ErrInvalid.
	ErrInvalid = repokit.NewError("files: invalid", repokit.ErrInvalid)
	// ErrInvalidKey: an object key failed validation. It matches ErrInvalid.
	ErrInvalidKey = repokit.NewError("files: invalid object key", ErrInvalid)
	// ErrConflict: the operation conflicts with the current state (an upload
	// already completed, a version that is already head...). Kind
	// repokit.ErrConflict.
	ErrConflict = repokit.NewError("files: conflict", repokit.ErrConflict)
	// ErrLocked: the bucket is locked and refuses writes. Kind
	// repokit.ErrForbidden: the bucket's policy refuses them.
	ErrLocked = repokit.NewError("files: bucket is locked", repokit.ErrForbidden)
	// ErrQuotaExceeded: the write would take the bucket over its quota. It
	// matches ErrTooLarge.
	ErrQuotaExceeded = repokit.NewError("files: bucket quota exceeded", ErrTooLarge)
	// ErrFileTooLarge: the file is larger than the bucket's maximum file size.
	// It matches ErrTooLarge.
	ErrFileTooLarge = repokit.NewError("files: file larger than the bucket's maximum file size", ErrTooLarge)
)
