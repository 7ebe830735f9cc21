package localpath

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func TestFromURL(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"bleve:///abs/dir":           "/abs/dir",
		"bleve:////abs/dir":          "/abs/dir",
		"file://localhost/abs/dir":   "/abs/dir",
		"file://rel/dir":             filepath.Join(wd, "rel/dir"),
		"file://rel":                 filepath.Join(wd, "rel"),
		"sqlite:rel.db":              filepath.Join(wd, "rel.db"),
		"bleve:///abs/dir/../other/": "/abs/other",
	}
	for in, want := range cases {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromURL(u)
		if err != nil || got != want {
			t.Errorf("FromURL(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"bleve://", "file:///", "bleve://localhost"} {
		u, _ := url.Parse(in)
		if got, err := FromURL(u); err == nil {
			t.Errorf("FromURL(%s) = %q, want an error saying what to write", in, got)
		}
	}
}
