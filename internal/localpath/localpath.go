// Package localpath turns the path part of a local URL (sqlite://,
// file://, bleve://) into a directory or file path, the same way for every
// package:
//
//	scheme:///abs/path          /abs/path
//	scheme:////abs/path         /abs/path (extra slashes are forgiven)
//	scheme://localhost/abs/path /abs/path (RFC 8089)
//	scheme://rel/path           <working directory>/rel/path
//
// Relative paths are made absolute when the URL is opened, so a later
// change of working directory does not move the data.
package localpath

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// FromURL returns the absolute, cleaned local path a URL names. An empty
// path is an error that says what to write.
func FromURL(u *url.URL) (string, error) {
	p := u.Path
	if u.Host != "" && u.Host != "localhost" {
		p = u.Host + p // scheme://rel/path: relative to the working directory
	}
	if u.Opaque != "" { // scheme:rel/path
		p = u.Opaque
	}
	if p == "" || p == "/" && u.Host == "" {
		return "", fmt.Errorf("%s URL %q names no path: write %s:///absolute/path or %s://relative/path", u.Scheme, u.Redacted(), u.Scheme, u.Scheme)
	}
	return FromPath(p)
}

// FromPath makes p absolute and clean (several leading slashes become one).
func FromPath(p string) (string, error) {
	if strings.HasPrefix(p, "//") {
		p = "/" + strings.TrimLeft(p, "/")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", p, err)
	}
	return abs, nil
}
