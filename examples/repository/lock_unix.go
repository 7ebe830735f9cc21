//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// errIndexInUse: another process of this repository holds the embedded
// index.
var errIndexInUse = errors.New("the embedded search index (bleve) is in use by another process: stop the server first, or run on OpenSearch to share the index between processes")

// lockEmbeddedIndex takes an exclusive lock next to a bleve:// index, so a
// second process (an admin command while the server runs, or separate web
// and worker processes) fails at once with a clear message instead of
// waiting on bleve's own file lock. Other engines need no lock.
func lockEmbeddedIndex(cfg *Config) (func() error, error) {
	dir, ok := strings.CutPrefix(cfg.SearchURL, "bleve://")
	if !ok {
		return func() error { return nil }, nil
	}
	dir, _, _ = strings.Cut(dir, "?")
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Clean(dir)+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("search lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, errIndexInUse
	}
	return f.Close, nil
}
