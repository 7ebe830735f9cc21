// Package webdavtest opens fresh, isolated WebDAV storage locations for
// tests: on an in-process golang.org/x/net/webdav server (always available)
// and on the servers named by REPOKIT_TEST_WEBDAV_URL (Apache httpd with
// mod_dav_fs in CI) and REPOKIT_TEST_XROOTD_URL (xrootd with XrdHttp), which
// skip without them (and fail under REPOKIT_TEST_REQUIRE_SERVICES=1).
package webdavtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"

	xwebdav "golang.org/x/net/webdav"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/storagetest"
	"github.com/repokit/repokit/storage/webdav"
)

// Environment variables naming the test servers (webdav:// URLs of a
// writable collection).
const (
	ApacheEnv = "REPOKIT_TEST_WEBDAV_URL"
	XRootDEnv = "REPOKIT_TEST_XROOTD_URL"
)

// Drivers lists the three WebDAV servers as storagetest drivers.
func Drivers() []storagetest.Driver {
	return []storagetest.Driver{
		{Name: "xnet", Open: OpenXNet},
		{Name: "apache", Open: OpenApache},
		{Name: "xrootd", Open: OpenXRootD},
	}
}

// NewXNetServer starts an in-process golang.org/x/net/webdav server over a
// temporary directory, mounted at /dav/, and returns its webdav:// URL.
// wrap, if not nil, wraps the handler (fault injection).
func NewXNetServer(t testing.TB, wrap func(http.Handler) http.Handler) (rawURL, dir string) {
	t.Helper()
	dir = t.TempDir()
	var h http.Handler = &xwebdav.Handler{Prefix: "/dav", FileSystem: xwebdav.Dir(dir), LockSystem: xwebdav.NewMemLS()}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return "webdav://" + strings.TrimPrefix(srv.URL, "http://") + "/dav/", dir
}

// OpenXNet opens a location named "xnet" on a fresh in-process server.
func OpenXNet(t *testing.T, opts ...storage.Option) *storage.Location {
	t.Helper()
	raw, _ := NewXNetServer(t, nil)
	return open(t, "xnet", raw, opts)
}

// OpenApache opens a fresh collection under ApacheEnv as location "apache".
func OpenApache(t *testing.T, opts ...storage.Option) *storage.Location {
	t.Helper()
	return OpenFresh(t, "apache", sqldbtest.ServiceURL(t, ApacheEnv), opts...)
}

// OpenXRootD opens a fresh collection under XRootDEnv as location "xrootd".
func OpenXRootD(t *testing.T, opts ...storage.Option) *storage.Location {
	t.Helper()
	return OpenFresh(t, "xrootd", sqldbtest.ServiceURL(t, XRootDEnv), opts...)
}

// OpenFresh makes a new collection "repokit-test-<random>/" under the
// collection of rawURL, opens it as location name, and removes it (with all
// it holds) at cleanup.
func OpenFresh(t testing.TB, name, rawURL string, opts ...storage.Option) *storage.Location {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", rawURL, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	u.Path = strings.TrimSuffix(u.Path, "/") + "/repokit-test-" + hex.EncodeToString(b[:]) + "/"
	if err := Request(u, "MKCOL", http.StatusCreated); err != nil {
		t.Fatal(err)
	}
	root, err := storage.OpenLocation(context.Background(), "root", rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer root.Close()
		var c *webdav.Client
		if !root.Bucket().As(&c) {
			t.Error("webdav location: As(*webdav.Client) failed")
			return
		}
		if err := c.RemoveAll(context.Background(), path.Base(u.Path)); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return open(t, name, u.String(), opts)
}

func open(t testing.TB, name, raw string, opts []storage.Option) *storage.Location {
	t.Helper()
	l, err := storage.OpenLocation(context.Background(), name, raw, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// HTTPURL turns a webdav(s):// URL into the http(s):// URL of its collection
// and its basic credentials.
func HTTPURL(u *url.URL) (string, *url.Userinfo) {
	c := *u
	c.Scheme = map[string]string{"webdav": "http", "webdavs": "https"}[u.Scheme]
	c.User = nil
	c.RawQuery = ""
	return c.String(), u.User
}

// Request sends a body-less method to the collection of webdav URL u and
// accepts the listed statuses.
func Request(u *url.URL, method string, ok ...int) error {
	target, user := HTTPURL(u)
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return err
	}
	if user != nil {
		p, _ := user.Password()
		req.SetBasicAuth(user.Username(), p)
	}
	// A fresh connection each time: a kept-alive one may be closed by the
	// server just as it is reused (Apache's KeepAliveTimeout), and MKCOL is
	// not resent by the transport.
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	for _, s := range ok {
		if resp.StatusCode == s {
			return nil
		}
	}
	return fmt.Errorf("%s %s: %d %s", method, target, resp.StatusCode, body)
}
