package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/storage"
)

// signedServer mounts Locations.SignedURLHandler under /_storage like a host.
func signedServer(t *testing.T, secret string) (*storage.Locations, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	ls, err := storage.Open(context.Background(), fileURL(t.TempDir()), storage.WithName("a"),
		storage.WithLocation("b", fileURL(t.TempDir())), storage.WithLocation("m", "mem://"),
		storage.WithSigningKey([]byte(secret)), storage.WithSignedURLBase(srv.URL+"/_storage"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close() })
	mux := http.NewServeMux()
	mux.Handle("/_storage/", http.StripPrefix("/_storage", ls.SignedURLHandler()))
	srv.Config.Handler = mux
	return ls, srv
}

func get(t *testing.T, method, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestSignedURLHandler(t *testing.T) {
	ctx := context.Background()
	ls, srv := signedServer(t, "s3cret")
	a, _ := ls.Get("a")
	b, _ := ls.Get("b")
	data := bytes.Repeat([]byte("<html><script>alert(1)</script>"), 1000)
	key := storage.NewKey()
	if _, err := a.Write(ctx, key, bytes.NewReader(data), storage.WriteOptions{ExpectedSize: storage.UnknownSize, ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	// The same key in location b holds other bytes.
	if _, err := b.Write(ctx, key, strings.NewReader("b's secret"), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
		t.Fatal(err)
	}
	su, err := a.SignedURL(ctx, key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(su, srv.URL+"/_storage/a?") {
		t.Fatalf("signed URL %s not under the configured base", su)
	}
	resp, body := get(t, "GET", su)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("missing safety headers: %v", resp.Header)
	}
	// Stored as text/html: never served inline as HTML.
	if resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Fatalf("HTML served as %q / %q", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	resp, body = get(t, "GET", su, "Range", "bytes=10-19")
	if resp.StatusCode != 206 || !bytes.Equal(body, data[10:20]) {
		t.Fatalf("ranged GET: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, "HEAD", su)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(data)) {
		t.Fatalf("HEAD: %d len %d", resp.StatusCode, resp.ContentLength)
	}
	if resp, _ := get(t, "PUT", su); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	// Replaying a's URL against location b: b derives another key → 403.
	if resp, body := get(t, "GET", strings.Replace(su, "/_storage/a?", "/_storage/b?", 1)); resp.StatusCode != 403 {
		t.Fatalf("a's URL on b: %d %q", resp.StatusCode, body)
	}
	// Unknown location and a non-file location.
	if resp, _ := get(t, "GET", strings.Replace(su, "/_storage/a?", "/_storage/zz?", 1)); resp.StatusCode != 404 {
		t.Fatalf("unknown location: %d", resp.StatusCode)
	}
	if resp, _ := get(t, "GET", strings.Replace(su, "/_storage/a?", "/_storage/m?", 1)); resp.StatusCode != 404 {
		t.Fatalf("mem location: %d", resp.StatusCode)
	}
	// Tampering with the method, key, expiry or signature.
	pu, _ := url.Parse(su)
	for param, value := range map[string]string{"method": "PUT", "obj": "x/y", "expiry": "99999999999", "signature": "AAAA"} {
		q := pu.Query()
		q.Set(param, value)
		c := *pu
		c.RawQuery = q.Encode()
		if resp, _ := get(t, "GET", c.String()); resp.StatusCode != 403 {
			t.Errorf("tampered %s: %d, want 403", param, resp.StatusCode)
		}
	}
	// Overrides: served, and neither droppable nor changeable.
	ou, err := a.SignedURLWith(ctx, key, time.Minute, storage.SignedURLOptions{ContentDisposition: "attachment", ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, "GET", ou); resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != "attachment" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("overrides: %d %v", resp.StatusCode, resp.Header)
	}
	opu, _ := url.Parse(ou)
	for _, drop := range []string{"response-content-disposition", "response-content-type"} {
		q := opu.Query()
		q.Del(drop)
		c := *opu
		c.RawQuery = q.Encode()
		if resp, _ := get(t, "GET", c.String()); resp.StatusCode != 403 {
			t.Errorf("dropped %s: %d, want 403", drop, resp.StatusCode)
		}
	}
	// A valid signature for a missing key → 404.
	gone, _ := a.SignedURL(ctx, storage.NewKey(), time.Minute)
	if resp, _ := get(t, "GET", gone); resp.StatusCode != 404 {
		t.Fatalf("missing key: %d", resp.StatusCode)
	}
	// mem:// cannot sign.
	m, _ := ls.Get("m")
	if _, err := m.SignedURL(ctx, key, time.Minute); !errors.Is(err, storage.ErrUnsupported) {
		t.Fatalf("mem SignedURL: %v", err)
	}
}

// TestSignedURLSharedSecret: a second process with the same secret and
// location name accepts the first one's URLs; another secret does not.
func TestSignedURLSharedSecret(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one, err := storage.OpenLocation(ctx, "data", fileURL(dir), storage.WithSigningKey([]byte("k1")))
	if err != nil {
		t.Fatal(err)
	}
	key := storage.NewKey()
	if _, err := one.Write(ctx, key, strings.NewReader("hello"), storage.WriteOptions{ExpectedSize: 5}); err != nil {
		t.Fatal(err)
	}
	su, err := one.SignedURL(ctx, key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		secret string
		status int
	}{{"k1", 200}, {"k2", 403}} {
		two, err := storage.OpenLocation(ctx, "data", fileURL(dir), storage.WithSigningKey([]byte(c.secret)))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(two.SignedURLHandler())
		resp, body := get(t, "GET", srv.URL+su)
		srv.Close()
		if resp.StatusCode != c.status || (c.status == 200 && string(body) != "hello") {
			t.Fatalf("secret %s: %d %q, want %d", c.secret, resp.StatusCode, body, c.status)
		}
	}
	// Without a configured secret each open gets a random one.
	three, _ := storage.OpenLocation(ctx, "data", fileURL(dir))
	srv := httptest.NewServer(three.SignedURLHandler())
	defer srv.Close()
	if resp, _ := get(t, "GET", srv.URL+su); resp.StatusCode != 403 {
		t.Fatalf("random secret accepted another's URL: %d", resp.StatusCode)
	}
}

// TestSignedURLPrefixedLocation: a file:// location opened with prefix=
// serves its own signed URLs (the signed key carries the prefix).
func TestSignedURLPrefixedLocation(t *testing.T) {
	ctx := context.Background()
	l, err := storage.OpenLocation(ctx, "p", fileURL(t.TempDir())+"?prefix=tenant-a/", storage.WithSigningKey([]byte("k")))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	key := storage.NewKey()
	if _, err := l.Write(ctx, key, strings.NewReader("prefixed"), storage.WriteOptions{ExpectedSize: 8}); err != nil {
		t.Fatal(err)
	}
	su, err := l.SignedURL(ctx, key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l.SignedURLHandler())
	defer srv.Close()
	if resp, body := get(t, "GET", srv.URL+su); resp.StatusCode != 200 || string(body) != "prefixed" {
		t.Fatalf("prefixed location: %d %q", resp.StatusCode, body)
	}
}
