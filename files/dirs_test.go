package files_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
)

// emptyDirs lists the empty directories under root (root excluded).
func emptyDirs(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root {
			if ents, err := os.ReadDir(p); err == nil && len(ents) == 0 {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// TestGCRemovesEmptyDirs: a failed upload, an aborted multipart upload and
// a deleted file leave directories behind in a file:// location; GC keeps
// them while younger than BytesGrace and removes them afterwards, leaving
// the directories of live files alone.
func TestGCRemovesEmptyDirs(t *testing.T) {
	ctx := context.Background()
	env := filestest.New(t, "sqlite", filestest.Options{})
	s := env.Store
	b, err := s.CreateBucket(ctx, files.BucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, b.ID, "cut", &cutReader{n: 1000, err: io.ErrUnexpectedEOF}, files.PutOptions{}); err == nil {
		t.Fatal("cut upload succeeded")
	}
	u, err := s.InitUpload(ctx, b.ID, "mp", 10, 5, files.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadPart(ctx, b.ID, "mp", u.ID, 1, strings.NewReader("12345"), 5, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortUpload(ctx, b.ID, "mp", u.ID); err != nil {
		t.Fatal(err)
	}
	gone, err := s.Put(ctx, b.ID, "gone", strings.NewReader("bye"), files.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.Put(ctx, b.ID, "kept", strings.NewReader("stay"), files.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVersion(ctx, b.ID, "gone", gone.VersionID); err != nil {
		t.Fatal(err)
	}
	root := env.Dirs["local"]
	rep, err := s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OrphanFiles != 1 || rep.EmptyDirs != 0 || len(emptyDirs(t, root)) == 0 {
		t.Fatalf("young directories: report %+v, empty %v", rep, emptyDirs(t, root))
	}
	// Age everything past the grace.
	old := time.Now().Add(-2 * time.Hour)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			_ = os.Chtimes(p, old, old)
		}
		return nil
	})
	rep, err = s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if left := emptyDirs(t, root); len(left) != 0 || rep.EmptyDirs == 0 {
		t.Fatalf("after GC: report %+v, empty directories %v", rep, left)
	}
	if keys := env.Keys(t, "local"); len(keys) != 1 || keys[0] != kept.File.StorageKey {
		t.Fatalf("stored keys %v", keys)
	}
	if got := readAll(t, s, kept); string(got) != "stay" {
		t.Fatalf("kept = %q", got)
	}
}

// TestKeyNormalization: every method taking a key normalizes it to NFC.
func TestKeyNormalization(t *testing.T) {
	ctx := context.Background()
	env := filestest.New(t, "sqlite", filestest.Options{})
	s := env.Store
	b, _ := s.CreateBucket(ctx, files.BucketOptions{})
	nfc, nfd := "r\u00e9sum\u00e9/\u00c5ngstr\u00f6m.txt", "re\u0301sume\u0301/A\u030angstro\u0308m.txt"
	o, err := s.Put(ctx, b.ID, nfd, strings.NewReader("x"), files.PutOptions{})
	if err != nil || o.Key != nfc {
		t.Fatalf("put: %v %q", err, o.Key)
	}
	if _, err := s.Put(ctx, b.ID, nfc, strings.NewReader("y"), files.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{nfc, nfd} {
		h, err := s.Head(ctx, b.ID, k, "")
		if err != nil || h.Size() != 1 || h.Key != nfc {
			t.Fatalf("head %q: %v", k, err)
		}
	}
	page, err := s.List(ctx, b.ID, files.ListOptions{Versions: true, Prefix: "re\u0301sume\u0301/"})
	if err != nil || len(page.Objects) != 2 {
		t.Fatalf("list by NFD prefix: %v %d", err, len(page.Objects))
	}
	if _, err := s.Copy(ctx, b.ID, nfd, b.ID, "copy-"+nfd); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Object(ctx, b.ID, "copy-"+nfc, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, b.ID, nfd); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Object(ctx, b.ID, nfc, ""); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	// Case and compatibility forms stay distinct keys.
	for _, k := range []string{"R\u00e9sum\u00e9/\u00c5ngstr\u00f6m.txt", "\ufb01le.txt"} {
		if files.NormalizeKey(k) != k {
			t.Fatalf("NormalizeKey folded %q", k)
		}
	}
}
