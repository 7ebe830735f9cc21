package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RemoveEmptyDirs removes the empty directories that file:// locations keep
// under prefix after their files are deleted (the directories of deleted
// objects, of aborted writes' temporary files and of multipart parts),
// deepest first, and returns how many it removed. Only directories not
// modified since olderThan are removed, so a directory a writer has just
// created for its next file is left alone. Other schemes have no
// directories: it returns 0. The directory of prefix itself is kept.
func (l *Location) RemoveEmptyDirs(ctx context.Context, prefix string, olderThan time.Time) (int, error) {
	if l.dir == "" {
		return 0, nil
	}
	root := filepath.Join(l.dir, filepath.FromSlash(l.prefix+prefix))
	if !strings.HasSuffix(l.prefix+prefix, "/") {
		root = filepath.Dir(root) // a partial name: start from its directory
	}
	var dirs []string // not modified since olderThan when walked
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() && p != root {
			// The time before any child is removed: removing one updates
			// the parent's mtime.
			if info, err := d.Info(); err == nil && info.ModTime().Before(olderThan) {
				dirs = append(dirs, p)
			}
		}
		return nil
	})
	if err != nil {
		return 0, wrapErr("remove empty dirs", prefix, err)
	}
	// Children are visited after their parent: walk backwards to remove
	// the deepest first, so a parent emptied by its children goes too.
	removed := 0
	for _, d := range slices.Backward(dirs) {
		// os.Remove refuses a directory that is not empty.
		if os.Remove(d) == nil {
			removed++
		}
	}
	return removed, nil
}

// removePartsDir removes the (now empty) directories that held a file://
// multipart upload's parts. Best effort: GC's RemoveEmptyDirs catches what
// is left.
func (l *Location) removePartsDir(partsPrefix string) {
	if l.dir == "" {
		return
	}
	d := filepath.Join(l.dir, filepath.FromSlash(l.prefix+strings.TrimSuffix(partsPrefix, "/")))
	if os.Remove(d) == nil {
		_ = os.Remove(filepath.Dir(d)) // "<key>.parts", shared by nothing else
	}
}
