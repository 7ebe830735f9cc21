package storage_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	_ "gocloud.dev/blob/azureblob" // azblob://, opt-in
	_ "gocloud.dev/blob/gcsblob"   // gs://, opt-in

	"github.com/repokit/repokit/storage"
	_ "github.com/repokit/repokit/storage/s3native" // s3://, opt-in
)

func fileURL(dir string) string { return (&url.URL{Scheme: "file", Path: dir}).String() }

func TestOpenLocations(t *testing.T) {
	ctx := context.Background()
	ls, err := storage.OpenLocations(ctx, []storage.LocationConfig{
		{Name: "local", URL: fileURL(t.TempDir())},
		{Name: "scratch", URL: "mem://", Default: true},
	})
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
	if got := ls.Names(); len(got) != 2 || got[0] != "local" || got[1] != "scratch" {
		t.Fatalf("Names = %v", got)
	}
	if len(ls.All()) != 2 {
		t.Fatal("All")
	}
}

func TestOpenLocationsDefaultsToFirst(t *testing.T) {
	ls, err := storage.OpenLocations(context.Background(), []storage.LocationConfig{{Name: "a", URL: "mem://"}, {Name: "b", URL: "mem://"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if ls.Default().Name() != "a" {
		t.Fatalf("default = %s", ls.Default().Name())
	}
}

func TestOpenLocationsMap(t *testing.T) {
	ctx := context.Background()
	ls, err := storage.OpenLocationsMap(ctx, map[string]string{"b": "mem://", "a": fileURL(t.TempDir())}, "b")
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if ls.Default().Name() != "b" {
		t.Fatal("default")
	}
	if _, err := storage.OpenLocationsMap(ctx, map[string]string{"a": "mem://"}, "zz"); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("unknown default: %v", err)
	}
}

func TestOpenLocationsErrors(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string][]storage.LocationConfig{
		"none":        nil,
		"two default": {{Name: "a", URL: "mem://", Default: true}, {Name: "b", URL: "mem://", Default: true}},
		"duplicate":   {{Name: "a", URL: "mem://"}, {Name: "a", URL: "mem://"}},
		"bad name":    {{Name: "a/b", URL: "mem://"}},
		"empty name":  {{Name: "", URL: "mem://"}},
	} {
		if _, err := storage.OpenLocations(ctx, cfg); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := storage.OpenLocations(ctx, []storage.LocationConfig{{Name: "a", URL: "nosuch://x"}}); err == nil {
		t.Error("unknown scheme opened")
	}
	if _, err := storage.OpenLocations(ctx, []storage.LocationConfig{{Name: "a", URL: "file:///definitely/not/here"}}); err == nil {
		t.Error("missing directory opened")
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
