package storage

import (
	"context"
	"errors"
	"fmt"

	"gocloud.dev/gcerrors"

	"github.com/repokit/repokit"
)

// Sentinel errors. Every error returned by this package that has one of these
// causes matches it with errors.Is; the underlying driver error stays in the
// chain (wrapped with %w) for logging. Each sentinel also matches its
// repokit error kind: ErrSizeMismatch and ErrChecksumMismatch are
// repokit.ErrInvalid, ErrInsufficientStorage is repokit.ErrUnavailable, the
// others the kind of the same name.
var (
	// ErrNotFound: the key (or the location, or the multipart upload) does not exist.
	ErrNotFound = repokit.NewError("storage: not found", repokit.ErrNotFound)
	// ErrTooLarge: a write passed WriteOptions.MaxSize. Nothing is left behind.
	// files re-exports it (files.ErrTooLarge = storage.ErrTooLarge).
	ErrTooLarge = repokit.NewError("storage: too large", repokit.ErrTooLarge)
	// ErrSizeMismatch: the bytes written (or a part uploaded) do not have the
	// size announced by the caller. Nothing is left behind.
	ErrSizeMismatch = repokit.NewError("storage: size mismatch", repokit.ErrInvalid)
	// ErrChecksumMismatch: the bytes do not match the checksum given by the
	// caller (Content-MD5, ExpectedChecksum). Nothing is left behind.
	ErrChecksumMismatch = repokit.NewError("storage: checksum mismatch", repokit.ErrInvalid)
	// ErrUnsupported: the location's driver cannot do this (e.g. SignedURL on mem://).
	ErrUnsupported = repokit.NewError("storage: unsupported by this driver", repokit.ErrUnsupported)
	// ErrInvalid: bad input (malformed Content-MD5, bad key, bad range, bad part number...).
	ErrInvalid = repokit.NewError("storage: invalid argument", repokit.ErrInvalid)
	// ErrInsufficientStorage: the storage system is out of space or quota
	// (WebDAV 507 Insufficient Storage). Nothing is left behind.
	ErrInsufficientStorage = repokit.NewError("storage: insufficient storage", repokit.ErrUnavailable)
	// ErrUnavailable: the storage system failed or refused for now (a 5xx
	// answer, a locked resource, a connection lost mid-transfer); retrying
	// later may succeed. Nothing is left behind by a failed write.
	ErrUnavailable = repokit.NewError("storage: unavailable", repokit.ErrUnavailable)
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
