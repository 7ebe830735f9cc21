package blevesearch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
)

// TestURLForms: bleve:///abs, bleve:////abs and bleve://relative (against
// the working directory, as sqlite://rel.db) all open.
func TestURLForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	for url, want := range map[string]string{
		"bleve://" + filepath.Join(dir, "a"):  filepath.Join(dir, "a"),
		"bleve:///" + filepath.Join(dir, "b"): filepath.Join(dir, "b"),
		"bleve://rel/c":                       filepath.Join(dir, "rel", "c"),
	} {
		e, err := search.Open(ctx, url)
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		if _, err := e.CreateIndex(ctx, "i", search.Definition{}); err != nil {
			t.Errorf("%s: create index: %v", url, err)
		}
		e.Close()
		if _, err := os.Stat(want); err != nil {
			t.Errorf("%s: nothing at %s: %v", url, want, err)
		}
	}
	if _, err := search.Open(ctx, "bleve://"); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("bleve:// gave %v, want ErrInvalid saying what to write", err)
	}
}
