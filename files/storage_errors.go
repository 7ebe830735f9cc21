package files

import "github.com/repokit/repokit/storage"

// Errors shared with package storage, so errors.Is works with either name.
var (
	// ErrTooLarge: a file is larger than allowed (max file size or quota
	// left); ErrFileTooLarge and ErrQuotaExceeded match it too.
	ErrTooLarge = storage.ErrTooLarge
	// ErrSizeMismatch: the bytes received are not the announced size.
	ErrSizeMismatch = storage.ErrSizeMismatch
	// ErrChecksumMismatch: the bytes do not match the client's Content-MD5
	// (or a recorded checksum).
	ErrChecksumMismatch = storage.ErrChecksumMismatch
	// ErrUnsupported: the location cannot do this (e.g. signed URLs on mem://).
	ErrUnsupported = storage.ErrUnsupported
)
