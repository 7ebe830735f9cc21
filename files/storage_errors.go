package files

import "errors"

// Errors shared with package storage.
var (
	ErrTooLarge = errors.New("files: too large")
)
