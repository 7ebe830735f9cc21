package storage

import (
	"context"
	"errors"
	"fmt"

	"gocloud.dev/gcerrors"
)

// Sentinel errors. Every error returned by this package that has one of these
// causes matches it with errors.Is; the underlying driver error stays in the
// chain (wrapped with %w) for logging.
var (
	// ErrNotFound: the key (or the location, or the multipart upload) does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrTooLarge: a write passed WriteOptions.MaxSize. Nothing is left behind.
	// files re-exports it (files.ErrTooLarge = storage.ErrTooLarge).
	ErrTooLarge = errors.New("storage: too large")
	// ErrSizeMismatch: the bytes written (or a part uploaded) do not have the
	// size announced by the caller. Nothing is left behind.
	ErrSizeMismatch = errors.New("storage: size mismatch")
	// ErrChecksumMismatch: the bytes do not match the checksum given by the
	// caller (Content-MD5, ExpectedChecksum). Nothing is left behind.
	ErrChecksumMismatch = errors.New("storage: checksum mismatch")
	// ErrUnsupported: the location's driver cannot do this (e.g. SignedURL on mem://).
	ErrUnsupported = errors.New("storage: unsupported by this driver")
	// ErrInvalid: bad input (malformed Content-MD5, bad key, bad range, bad part number...).
	ErrInvalid = errors.New("storage: invalid argument")
	// ErrInsufficientStorage: the storage system is out of space or quota
	// (WebDAV 507 Insufficient Storage). Nothing is left behind.
	ErrInsufficientStorage = errors.New("storage: insufficient storage")
	// ErrUnavailable: the storage system failed or refused for now (a 5xx
	// answer, a locked resource, a connection lost mid-transfer); retrying
	// later may succeed. Nothing is left behind by a failed write.
	ErrUnavailable = errors.New("storage: unavailable")
)

// wrapErr maps a gocloud error to our sentinels, keeping the cause.
func wrapErr(op, key string, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrNotFound, ErrTooLarge, ErrSizeMismatch, ErrChecksumMismatch, ErrUnsupported, ErrInvalid} {
		if errors.Is(err, s) {
			return fmt.Errorf("storage: %s %q: %w", op, key, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("storage: %s %q: %w", op, key, err)
	}
	var sentinel error
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		sentinel = ErrNotFound
	case gcerrors.Unimplemented:
		sentinel = ErrUnsupported
	case gcerrors.InvalidArgument:
		sentinel = ErrInvalid
	}
	if sentinel != nil {
		return fmt.Errorf("storage: %s %q: %w (%w)", op, key, sentinel, err)
	}
	return fmt.Errorf("storage: %s %q: %w", op, key, err)
}
