package storage_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	_ "gocloud.dev/blob/azureblob" // azblob://, opt-in
	_ "gocloud.dev/blob/gcsblob"   // gs://, opt-in

	"github.com/repokit/repokit/storage"
	_ "github.com/repokit/repokit/storage/s3native" // s3://, opt-in
)

func fileURL(dir string) string { return (&url.URL{Scheme: "file", Path: dir}).String() }

func TestOpen(t *testing.T) {
	ctx := context.Background()
	ls, err := storage.Open(ctx, "mem://", storage.WithName("scratch"), storage.WithLocation("local", fileURL(t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if ls.Default().Name() != "scratch" || ls.Default().Scheme() != "mem" {
		t.Fatalf("default = %s", ls.Default().Name())
	}
	l, err := ls.Get("local")
	if err != nil || l.Scheme() != "file" {
		t.Fatalf("Get(local) = %v, %v", l, err)
	}
	if _, err := ls.Get("nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(nope) = %v", err)
	}
	if got := ls.Names(); len(got) != 2 || got[0] != "scratch" || got[1] != "local" {
		t.Fatalf("Names = %v", got)
	}
	if len(ls.All()) != 2 {
		t.Fatal("All")
	}
}

func TestOpenDefaultName(t *testing.T) {
	ls, err := storage.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if ls.Default().Name() != storage.DefaultLocationName {
		t.Fatalf("default = %s, want %s", ls.Default().Name(), storage.DefaultLocationName)
	}
}

func TestNew(t *testing.T) {
	ctx := context.Background()
	a, err := storage.OpenLocation(ctx, "a", "mem://")
	if err != nil {
		t.Fatal(err)
	}
	b, err := storage.OpenLocation(ctx, "b", fileURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := storage.New(ctx, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if ls.Default() != b || len(ls.All()) != 2 {
		t.Fatalf("default = %s, %d locations", ls.Default().Name(), len(ls.All()))
	}
	if err := ls.Close(); err != nil {
		t.Fatal(err)
	}
	dup, _ := storage.OpenLocation(ctx, "a", "mem://")
	defer dup.Close()
	for name, f := range map[string]func() error{
		"nil default": func() error { _, err := storage.New(ctx, nil); return err },
		"nil other":   func() error { _, err := storage.New(ctx, dup, nil); return err },
		"duplicate":   func() error { _, err := storage.New(ctx, dup, dup); return err },
	} {
		if err := f(); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// TestCloseIdempotent: closing a set, or a location, twice is not an error
// (a host's deferred Close after an explicit one must not report a failure).
func TestCloseIdempotent(t *testing.T) {
	ctx := context.Background()
	ls, err := storage.Open(ctx, "mem://", storage.WithLocation("f", fileURL(t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	// Readers too, on every driver kind (direct file, blob reader).
	for _, l := range ls.All() {
		if _, err := l.Write(ctx, "r", strings.NewReader("abc"), storage.WriteOptions{ExpectedSize: 3}); err != nil {
			t.Fatal(err)
		}
		r, err := l.NewReader(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := r.Close(); err != nil {
				t.Fatalf("%s: reader Close #%d: %v", l.Name(), i+1, err)
			}
		}
	}
	for i := range 3 {
		if err := ls.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if err := ls.Default().Close(); err != nil {
		t.Fatalf("location Close after the set's: %v", err)
	}
	if _, err := ls.Default().Write(ctx, "k", strings.NewReader("x"), storage.WriteOptions{ExpectedSize: 1}); err == nil {
		t.Fatal("write to a closed location succeeded")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string][]storage.Option{
		"duplicate":  {storage.WithName("a"), storage.WithLocation("a", "mem://")},
		"bad name":   {storage.WithName("a/b")},
		"empty name": {storage.WithLocation("", "mem://")},
	} {
		if _, err := storage.Open(ctx, "mem://", opts...); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := storage.Open(ctx, "nosuch://x"); err == nil {
		t.Error("unknown scheme opened")
	}
	if _, err := storage.Open(ctx, "mem://", storage.WithLocation("b", "file:///definitely/not/here")); err == nil {
		t.Error("missing directory opened")
	}
	if _, err := storage.OpenLocation(ctx, "a", "mem://", storage.WithLocation("b", "mem://")); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("OpenLocation with WithLocation: %v, want ErrInvalid", err)
	}
}

// TestOpenCloudSchemes: gs:// and azblob:// open (no I/O happens until use;
// there is no server here to test them against).
func TestOpenCloudSchemes(t *testing.T) {
	t.Setenv("AZURE_STORAGE_ACCOUNT", "repokitdevaccount")
	t.Setenv("AZURE_STORAGE_KEY", "cmVwb2tpdA==")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	for _, u := range []string{"azblob://container", "gs://bucket?anonymous=true", "s3://bucket?region=us-east-1"} {
		l, err := storage.OpenLocation(context.Background(), "cloud", u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if l.URL() == "" || l.Bucket() == nil {
			t.Fatal("no URL or bucket")
		}
		l.Close()
	}
}
