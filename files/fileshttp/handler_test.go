package fileshttp_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/files/filestest"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

const prefix = "/api/files"

type testServer struct {
	*httptest.Server
	env      *filestest.Env
	client   *http.Client       // does not follow redirects
	finished chan *http.Request // every request whose handler returned
}

func newServer(t testing.TB, d sqldb.Dialect, opts ...fileshttp.Option) *testServer {
	t.Helper()
	env := filestest.New(t, string(d), filestest.Options{})
	// A plain prefix router (no ServeMux path cleaning in front), so the
	// handler sees requests exactly as sent.
	api := http.StripPrefix(prefix, fileshttp.New(env.Store, opts...))
	signed := http.StripPrefix("/_storage", env.Locs.SignedURLHandler())
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, prefix+"/"):
			api.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/_storage/"):
			signed.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	finished := make(chan *http.Request, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			select {
			case finished <- r:
			default:
			}
		}()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, env: env, finished: finished, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return m
}

func (s *testServer) do(t testing.TB, method, path string, body []byte, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+prefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// expectError checks status and the JSON error document.
func expectError(t testing.TB, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	m := r.json(t)
	if int(m["status"].(float64)) != status || m["message"] == "" {
		t.Fatalf("error body %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
}

func md5b64(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }

func (s *testServer) createBucket(t testing.TB, body string) string {
	t.Helper()
	r := s.do(t, "POST", "/", []byte(body))
	if r.status != http.StatusCreated {
		t.Fatalf("create bucket: %d %s", r.status, r.body)
	}
	return r.json(t)["id"].(string)
}

func TestHTTPObjects(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		s := newServer(t, d)
		b := s.createBucket(t, `{"quota": 100000, "max_file_size": 50000}`)
		// HEAD bucket.
		if r := s.do(t, "HEAD", "/"+b, nil); r.status != 200 || r.header.Get("X-Bucket-Size") != "0" {
			t.Fatalf("HEAD bucket: %d %v", r.status, r.header)
		}
		if r := s.do(t, "HEAD", "/00000000-0000-0000-0000-000000000000", nil); r.status != 404 {
			t.Fatalf("HEAD missing bucket: %d", r.status)
		}
		expectError(t, s.do(t, "GET", "/not-a-bucket", nil), 404)
		expectError(t, s.do(t, "POST", "/", []byte("{bad")), 400)

		v1 := []byte("hello world, version one")
		r := s.do(t, "PUT", "/"+b+"/dir/hello.txt", v1, "Content-MD5", md5b64(v1))
		if r.status != 200 || r.header.Get("ETag") == "" {
			t.Fatalf("PUT: %d %s", r.status, r.body)
		}
		first := r.json(t)
		v2 := []byte("hello world, version two!")
		if r = s.do(t, "PUT", "/"+b+"/dir/hello.txt", v2); r.status != 200 {
			t.Fatalf("PUT v2: %d %s", r.status, r.body)
		}
		etag := r.header.Get("ETag")
		// Errors on PUT.
		expectError(t, s.do(t, "PUT", "/"+b+"/x", v1, "Content-MD5", md5b64([]byte("other"))), 400)
		expectError(t, s.do(t, "PUT", "/"+b+"/bad%01key", v1), 400)
		expectError(t, s.do(t, "PUT", "/"+b+"/a/../escape", v1), 400)
		expectError(t, s.do(t, "PUT", "/"+b+"/a/%2e%2e/escape", v1), 400)
		expectError(t, s.do(t, "PUT", "/"+b+"/a//b", v1), 400)
		expectError(t, s.do(t, "GET", "/"+b+"/./x", nil), 400)
		expectError(t, s.do(t, "PUT", "/"+b+"/big", make([]byte, 50001)), 413)
		expectError(t, s.do(t, "PUT", "/00000000-0000-0000-0000-000000000000/x", v1), 404)

		// GET with safety headers.
		r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil)
		if r.status != 200 || !bytes.Equal(r.body, v2) || r.header.Get("ETag") != etag ||
			r.header.Get("Content-Type") != "text/plain; charset=utf-8" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			r.header.Get("Content-Security-Policy") != "default-src 'none'" || r.header.Get("Last-Modified") == "" ||
			!strings.HasPrefix(r.header.Get("Content-Disposition"), "inline") {
			t.Fatalf("GET: %d %q %v", r.status, r.body, r.header)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt?download", nil); !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") ||
			!strings.Contains(r.header.Get("Content-Disposition"), "hello.txt") {
			t.Fatalf("download disposition %q", r.header.Get("Content-Disposition"))
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil, "If-None-Match", etag); r.status != 304 {
			t.Fatalf("If-None-Match: %d", r.status)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil, "Range", "bytes=0-4"); r.status != 206 || string(r.body) != "hello" ||
			r.header.Get("Content-Range") != fmt.Sprintf("bytes 0-4/%d", len(v2)) {
			t.Fatalf("Range: %d %q", r.status, r.body)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil, "Range", "bytes=-4"); r.status != 206 || string(r.body) != "two!" {
			t.Fatalf("suffix Range: %d %q", r.status, r.body)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil, "Range", "bytes=0-4", "If-Range", `"md5:stale"`); r.status != 200 || !bytes.Equal(r.body, v2) {
			t.Fatalf("If-Range stale: %d", r.status)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil, "Range", "bytes=0-4", "If-Range", etag); r.status != 206 {
			t.Fatalf("If-Range current: %d", r.status)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil, "Range", "bytes=1000-2000"); r.status != 416 {
			t.Fatalf("bad range: %d", r.status)
		}
		if r = s.do(t, "HEAD", "/"+b+"/dir/hello.txt", nil); r.status != 200 || r.header.Get("Content-Length") != fmt.Sprint(len(v2)) || len(r.body) != 0 {
			t.Fatalf("HEAD object: %d %v", r.status, r.header)
		}
		// Old version by id.
		vid := first["version_id"].(string)
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt?versionId="+vid, nil); r.status != 200 || !bytes.Equal(r.body, v1) {
			t.Fatalf("GET version: %d %q", r.status, r.body)
		}
		expectError(t, s.do(t, "GET", "/"+b+"/dir/hello.txt?versionId=00000000-0000-0000-0000-000000000000", nil), 404)
		// Tags from headers.
		if r = s.do(t, "PUT", "/"+b+"/tagged", []byte("t"), "X-Object-Tag", "a=1, b=two%20words"); r.status != 200 ||
			r.json(t)["tags"].(map[string]any)["b"] != "two words" {
			t.Fatalf("tags: %d %s", r.status, r.body)
		}
		expectError(t, s.do(t, "PUT", "/"+b+"/tagged", []byte("t"), "X-Object-Tag", "novalue"), 400)
		s.do(t, "DELETE", "/"+b+"/tagged?versionId="+r.json(t)["version_id"].(string), nil)
		// An explicit media type; a bad one is refused.
		s.do(t, "PUT", "/"+b+"/data?mimetype=application%2Fjson", []byte(`{"a":1}`))
		if r = s.do(t, "GET", "/"+b+"/data", nil); r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("explicit mimetype served as %q", r.header.Get("Content-Type"))
		}
		expectError(t, s.do(t, "PUT", "/"+b+"/data?mimetype=%3B%3B", []byte("x")), 400)
		s.do(t, "DELETE", "/"+b+"/data?versionId="+s.do(t, "GET", "/"+b+"?versions&prefix=data", nil).json(t)["contents"].([]any)[0].(map[string]any)["version_id"].(string), nil)
		// Unsafe types are downloaded as octet-stream attachments.
		s.do(t, "PUT", "/"+b+"/evil.html", []byte("<script>alert(1)</script>"))
		if r = s.do(t, "GET", "/"+b+"/evil.html", nil); r.header.Get("Content-Type") != "application/octet-stream" ||
			!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("html served as %q %q", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
		}
		// Listing: heads, versions, prefix, pagination.
		heads := s.do(t, "GET", "/"+b, nil).json(t)
		if c := heads["contents"].([]any); len(c) != 2 {
			t.Fatalf("heads %v", heads)
		}
		versions := s.do(t, "GET", "/"+b+"?versions", nil).json(t)
		if c := versions["contents"].([]any); len(c) != 3 {
			t.Fatalf("versions %v", versions)
		}
		page := s.do(t, "GET", "/"+b+"?limit=1", nil).json(t)
		if c := page["contents"].([]any); len(c) != 1 || page["next"] == "" {
			t.Fatalf("page %v", page)
		}
		page2 := s.do(t, "GET", "/"+b+"?limit=1&cursor="+url.QueryEscape(page["next"].(string)), nil).json(t)
		if c := page2["contents"].([]any); len(c) != 1 || c[0].(map[string]any)["key"] != "evil.html" {
			t.Fatalf("page2 %v", page2)
		}
		expectError(t, s.do(t, "GET", "/"+b+"?limit=x", nil), 400)
		expectError(t, s.do(t, "GET", "/"+b+"?cursor=%21%21", nil), 400)
		// Delete marker, restore (409 for a marker), delete one version.
		if r = s.do(t, "DELETE", "/"+b+"/dir/hello.txt", nil); r.status != 204 {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
		expectError(t, s.do(t, "GET", "/"+b+"/dir/hello.txt", nil), 404)
		// Deleting it again is idempotent and writes no second marker.
		if r = s.do(t, "DELETE", "/"+b+"/dir/hello.txt", nil); r.status != 204 {
			t.Fatalf("DELETE again: %d %s", r.status, r.body)
		}
		vs := s.do(t, "GET", "/"+b+"?versions", nil).json(t)["contents"].([]any)
		marker := vs[0].(map[string]any)
		if marker["delete_marker"] != true {
			t.Fatalf("first version is not the marker: %v", vs)
		}
		expectError(t, s.do(t, "POST", "/"+b+"/dir/hello.txt?versionId="+marker["version_id"].(string), nil), 409)
		if r = s.do(t, "POST", "/"+b+"/dir/hello.txt?versionId="+vid, nil); r.status != 200 {
			t.Fatalf("restore: %d %s", r.status, r.body)
		}
		if r = s.do(t, "GET", "/"+b+"/dir/hello.txt", nil); !bytes.Equal(r.body, v1) {
			t.Fatalf("after restore: %q", r.body)
		}
		if r = s.do(t, "DELETE", "/"+b+"/dir/hello.txt?versionId="+vid, nil); r.status != 204 {
			t.Fatalf("DELETE version: %d %s", r.status, r.body)
		}
		expectError(t, s.do(t, "GET", "/"+b+"/dir/hello.txt?versionId="+vid, nil), 404)
		expectError(t, s.do(t, "POST", "/"+b+"/dir/hello.txt", nil), 400)
		// Quota: 413.
		small := s.createBucket(t, `{"quota": 10}`)
		if r = s.do(t, "PUT", "/"+small+"/a", []byte("123456")); r.status != 200 {
			t.Fatalf("PUT small: %d %s", r.status, r.body)
		}
		expectError(t, s.do(t, "PUT", "/"+small+"/b", []byte("123456")), 413)
		// Locked bucket: 403.
		if err := s.env.Store.LockBucket(context.Background(), small, true); err != nil {
			t.Fatal(err)
		}
		expectError(t, s.do(t, "PUT", "/"+small+"/c", []byte("1")), 403)
		expectError(t, s.do(t, "DELETE", "/"+small+"/a", nil), 403)
		if r = s.do(t, "GET", "/"+small+"/a", nil); r.status != 200 {
			t.Fatalf("read from locked bucket: %d", r.status)
		}
		// Soft-deleted bucket: 404.
		if err := s.env.Store.DeleteBucket(context.Background(), small); err != nil {
			t.Fatal(err)
		}
		expectError(t, s.do(t, "GET", "/"+small, nil), 404)
		expectError(t, s.do(t, "GET", "/"+small+"/a", nil), 404)
	})
}

func TestHTTPMultipart(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		s := newServer(t, d)
		b := s.createBucket(t, `{"max_file_size": 1000}`)
		expectError(t, s.do(t, "POST", "/"+b+"/m.bin?uploads&size=0&partSize=5", nil), 400)
		expectError(t, s.do(t, "POST", "/"+b+"/m.bin?uploads&size=x&partSize=5", nil), 400)
		expectError(t, s.do(t, "POST", "/"+b+"/m.bin?uploads&size=2000&partSize=500", nil), 413)
		r := s.do(t, "POST", "/"+b+"/m.bin?uploads&size=12&partSize=5", nil)
		if r.status != 201 {
			t.Fatalf("init: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		base := "/" + b + "/m.bin?uploadId=" + id
		expectError(t, s.do(t, "PUT", base+"&partNumber=1", []byte("1234")), 400) // wrong size
		expectError(t, s.do(t, "PUT", base+"&partNumber=0", []byte("12345")), 400)
		expectError(t, s.do(t, "PUT", base+"&partNumber=2", []byte("67890"), "Content-MD5", md5b64([]byte("x"))), 400)
		for n, p := range map[int]string{3: "ab", 2: "67890", 1: "12345"} {
			if r := s.do(t, "PUT", fmt.Sprintf("%s&partNumber=%d", base, n), []byte(p), "Content-MD5", md5b64([]byte(p))); r.status != 200 {
				t.Fatalf("part %d: %d %s", n, r.status, r.body)
			}
		}
		lp := s.do(t, "GET", base, nil).json(t)
		if parts := lp["parts"].([]any); len(parts) != 3 {
			t.Fatalf("list parts %v", lp)
		}
		ups := s.do(t, "GET", "/"+b+"?uploads", nil).json(t)
		if u := ups["uploads"].([]any); len(u) != 1 {
			t.Fatalf("uploads %v", ups)
		}
		if r = s.do(t, "POST", base, nil); r.status != 200 {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		if r = s.do(t, "GET", "/"+b+"/m.bin", nil); string(r.body) != "1234567890ab" {
			t.Fatalf("assembled %q", r.body)
		}
		expectError(t, s.do(t, "POST", base, nil), 404)
		// Abort.
		id2 := s.do(t, "POST", "/"+b+"/n.bin?uploads&size=10&partSize=5", nil).json(t)["id"].(string)
		if r = s.do(t, "DELETE", "/"+b+"/n.bin?uploadId="+id2, nil); r.status != 204 {
			t.Fatalf("abort: %d %s", r.status, r.body)
		}
		expectError(t, s.do(t, "GET", "/"+b+"/n.bin?uploadId="+id2, nil), 404)
		expectError(t, s.do(t, "PUT", "/"+b+"/n.bin?uploadId="+id2+"&partNumber=1", []byte("12345")), 404)
	})
}

func TestHTTPPermission(t *testing.T) {
	var denied = errors.New("no")
	s := newServer(t, sqldb.SQLite, fileshttp.WithPermission(func(r *http.Request, a fileshttp.Action, res fileshttp.Resource) error {
		switch {
		case a == fileshttp.ActionObjectDelete:
			return denied
		case a == fileshttp.ActionObjectRead && res.Key == "secret":
			return fmt.Errorf("hidden: %w", files.ErrNotFound)
		case r.Header.Get("X-User") == "blocked":
			return denied
		}
		return nil
	}))
	b := s.createBucket(t, "")
	s.do(t, "PUT", "/"+b+"/secret", []byte("s"))
	s.do(t, "PUT", "/"+b+"/open", []byte("o"))
	expectError(t, s.do(t, "DELETE", "/"+b+"/open", nil), 403)
	expectError(t, s.do(t, "GET", "/"+b+"/secret", nil), 404)
	expectError(t, s.do(t, "GET", "/"+b+"/open", nil, "X-User", "blocked"), 403)
	expectError(t, s.do(t, "POST", "/", nil, "X-User", "blocked"), 403)
	// Bucket policy: the host imposes a quota and refuses custom locations.
	p := newServer(t, sqldb.SQLite, fileshttp.WithBucketPolicy(func(r *http.Request, o *files.BucketOptions) error {
		if o.Location != "" {
			return errors.New("custom locations are not allowed")
		}
		o.Quota = 5
		return nil
	}))
	expectError(t, p.do(t, "POST", "/", []byte(`{"location":"archive"}`)), 403)
	pb := p.createBucket(t, `{"quota": 1000000}`)
	expectError(t, p.do(t, "PUT", "/"+pb+"/x", []byte("123456")), 413)
	if r := s.do(t, "GET", "/"+b+"/open", nil); r.status != 200 {
		t.Fatalf("allowed GET: %d", r.status)
	}
}

func TestHTTPOffload(t *testing.T) {
	s := newServer(t, sqldb.SQLite, fileshttp.WithSignedRedirect(100, time.Minute))
	b := s.createBucket(t, "")
	big := bytes.Repeat([]byte("0123456789"), 20)
	s.do(t, "PUT", "/"+b+"/big.bin", big)
	s.do(t, "PUT", "/"+b+"/small.txt", []byte("small"))
	if r := s.do(t, "GET", "/"+b+"/small.txt", nil); r.status != 200 || string(r.body) != "small" {
		t.Fatalf("small: %d", r.status)
	}
	r := s.do(t, "GET", "/"+b+"/big.bin", nil)
	loc := r.header.Get("Location")
	if r.status != 302 || !strings.HasPrefix(loc, "/_storage/") {
		t.Fatalf("big: %d %q", r.status, loc)
	}
	get := func(u string) (int, []byte) {
		res, err := http.Get(s.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	if st, body := get(loc); st != 200 || !bytes.Equal(body, big) {
		t.Fatalf("signed URL: %d %d bytes", st, len(body))
	}
	if res, err := http.Get(s.URL + loc); err != nil || !strings.Contains(res.Header.Get("Content-Disposition"), "big.bin") ||
		res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("offloaded download headers: %v %v", res.Header, err)
	} else {
		res.Body.Close()
	}
	// Tampered: another key, or a changed signature.
	u, _ := url.Parse(loc)
	q := u.Query()
	q.Set("obj", q.Get("obj")+"x")
	u.RawQuery = q.Encode()
	if st, _ := get(u.String()); st != 403 {
		t.Fatalf("tampered key: %d", st)
	}
	u, _ = url.Parse(loc)
	q = u.Query()
	sig := []byte(q.Get("signature"))
	sig[len(sig)/2] ^= 1
	q.Set("signature", string(sig))
	u.RawQuery = q.Encode()
	if st, _ := get(u.String()); st != 403 {
		t.Fatalf("tampered signature: %d", st)
	}
	// Expired.
	o, err := s.env.Store.Object(context.Background(), b, "big.bin", "")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := s.env.Store.SignedURL(context.Background(), o.File, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if st, _ := get(expired); st != 403 {
		t.Fatalf("expired signed URL: %d", st)
	}
	// Range requests are served here, not redirected.
	if r := s.do(t, "GET", "/"+b+"/big.bin", nil, "Range", "bytes=0-9"); r.status != 206 || string(r.body) != "0123456789" {
		t.Fatalf("range on offloaded: %d", r.status)
	}
}

func TestHTTPAccelRedirect(t *testing.T) {
	s := newServer(t, sqldb.SQLite, fileshttp.WithAccelRedirect(func(f *files.FileInstance) string {
		return "/internal/" + f.Location + "/" + f.StorageKey
	}))
	b := s.createBucket(t, "")
	s.do(t, "PUT", "/"+b+"/a.pdf", []byte("%PDF-1.4"))
	r := s.do(t, "GET", "/"+b+"/a.pdf", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("X-Accel-Redirect"), "/internal/local/files/") || len(r.body) != 0 ||
		r.header.Get("Content-Type") != "application/pdf" || r.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("accel: %d %v %q", r.status, r.header, r.body)
	}
}
