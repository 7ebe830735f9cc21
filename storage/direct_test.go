package storage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/storage"
)

// TestFileReaderFile: readers of file:// objects expose their open file
// (plain keys are opened directly, others through fileblob), which
// http.ServeContent serves ranges from; the bytes, size and errors are
// the same either way.
func TestFileReaderFile(t *testing.T) {
	ctx := context.Background()
	for _, q := range []string{"", "?prefix=pre/"} {
		dir := t.TempDir()
		l, err := storage.OpenLocation(ctx, "f", fileURL(dir)+q)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for _, key := range []string{"files/ab/cd/0123-4567", "odd key/é__0x41__.bin", "x.attrs.bin"} {
			body := "hello " + key
			if _, err := l.Write(ctx, key, strings.NewReader(body), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
				t.Fatalf("write %q: %v", key, err)
			}
			r, err := l.NewReader(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			f := r.File()
			if f == nil || r.Size() != int64(len(body)) || r.ModTime().IsZero() {
				t.Fatalf("%q: file %v size %d", key, f, r.Size())
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Range", "bytes=6-")
			http.ServeContent(rec, req, "", time.Time{}, f)
			if rec.Code != 206 || rec.Body.String() != key {
				t.Fatalf("%q: range %d %q", key, rec.Code, rec.Body.String())
			}
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(r); err != nil || string(b) != body {
				t.Fatalf("%q: read %q %v", key, b, err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.NewReader(ctx, "files/no/such"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("missing key: %v", err)
		}
		if err := os.MkdirAll(filepath.Join(dir, strings.TrimPrefix(q, "?prefix="), "adir"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := l.NewReader(ctx, "adir"); err == nil {
			t.Fatal("a directory opened as an object")
		}
	}
}

// TestRemoveEmptyDirs: only empty directories older than the cutoff go,
// deepest first; the prefix directory and non-empty ones stay.
func TestRemoveEmptyDirs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := storage.OpenLocation(ctx, "f", fileURL(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, k := range []string{"p/a/b/c/gone", "p/a/keep/kept", "p/young/gone"} {
		if _, err := l.Write(ctx, k, strings.NewReader("x"), storage.WriteOptions{ExpectedSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"p/a/b/c/gone", "p/young/gone"} {
		if err := l.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	for _, d := range []string{"p", "p/a", "p/a/b", "p/a/b/c", "p/a/keep"} {
		if err := os.Chtimes(filepath.Join(dir, d), old, old); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.RemoveEmptyDirs(ctx, "p/", time.Now().Add(-time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("removed %d %v, want 2 (a/b/c and a/b)", n, err)
	}
	for d, want := range map[string]bool{"p": true, "p/a": true, "p/a/b": false, "p/a/keep": true, "p/young": true} {
		if _, err := os.Stat(filepath.Join(dir, d)); (err == nil) != want {
			t.Fatalf("%s exists=%v, want %v", d, err == nil, want)
		}
	}
	mem, _ := storage.OpenLocation(ctx, "m", "mem://")
	defer mem.Close()
	if n, err := mem.RemoveEmptyDirs(ctx, "", time.Now()); n != 0 || err != nil {
		t.Fatalf("mem: %d %v", n, err)
	}
}
