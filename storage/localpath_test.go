package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repokit/repokit/storage"
)

// TestFileURLForms: file:///abs, file:////abs and file://relative (against
// the working directory) open the directory they name.
func TestFileURLForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	for url, want := range map[string]string{
		"file://" + filepath.Join(dir, "a"):  filepath.Join(dir, "a"),
		"file:///" + filepath.Join(dir, "b"): filepath.Join(dir, "b"),
		"file://rel/c":                       filepath.Join(dir, "rel", "c"),
		"file://d":                           filepath.Join(dir, "d"),
	} {
		locs, err := storage.Open(ctx, url+"?create_dir=1")
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		if _, err := locs.Default().Write(ctx, "k", strings.NewReader("hi"), storage.WriteOptions{ExpectedSize: 2}); err != nil {
			t.Errorf("%s: write: %v", url, err)
		}
		locs.Close()
		if _, err := os.Stat(filepath.Join(want, "k")); err != nil {
			t.Errorf("%s: file not under %s: %v", url, want, err)
		}
	}
	_, err := storage.Open(ctx, "file:///")
	if err == nil || !strings.Contains(err.Error(), "file:///absolute/path") {
		t.Errorf("file:/// gave %v, want an error saying what to write", err)
	}
}
