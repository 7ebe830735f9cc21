package fileshttp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// TestHTTPServeContentErrorsJSON: the 412 and 416 that http.ServeContent
// produces for conditional and range GETs are JSON error documents without
// the file's headers; 304 and 206 are untouched.
func TestHTTPServeContentErrorsJSON(t *testing.T) {
	s := newServer(t, sqldb.SQLite)
	b := s.createBucket(t, "")
	if r := s.do(t, "PUT", "/"+b+"/a.txt", []byte("hello world")); r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	noFileHeaders := func(r resp) {
		t.Helper()
		for _, h := range []string{"Content-Disposition", "ETag", "Last-Modified", "Accept-Ranges", "X-Checksum-SHA256"} {
			if v := r.header.Get(h); v != "" {
				t.Fatalf("status %d carries %s: %q", r.status, h, v)
			}
		}
	}
	r := s.do(t, "GET", "/"+b+"/a.txt", nil, "Range", "bytes=100-200")
	expectError(t, r, http.StatusRequestedRangeNotSatisfiable)
	noFileHeaders(r)
	if cr := r.header.Get("Content-Range"); cr != "bytes */11" {
		t.Fatalf("416 Content-Range %q, want bytes */11", cr)
	}
	for _, hdr := range [][]string{
		{"If-Match", `"md5:0000"`},
		{"If-Unmodified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"},
	} {
		r := s.do(t, "GET", "/"+b+"/a.txt", nil, hdr...)
		expectError(t, r, http.StatusPreconditionFailed)
		noFileHeaders(r)
	}
	full := s.do(t, "GET", "/"+b+"/a.txt", nil)
	if full.status != 200 || string(full.body) != "hello world" {
		t.Fatalf("get: %d %q", full.status, full.body)
	}
	if r := s.do(t, "GET", "/"+b+"/a.txt", nil, "If-None-Match", full.header.Get("ETag")); r.status != http.StatusNotModified || len(r.body) != 0 {
		t.Fatalf("If-None-Match: %d %q", r.status, r.body)
	}
	if r := s.do(t, "GET", "/"+b+"/a.txt", nil, "Range", "bytes=6-"); r.status != 206 || string(r.body) != "world" ||
		r.header.Get("Content-Range") != "bytes 6-10/11" || r.header.Get("Content-Disposition") == "" {
		t.Fatalf("range: %d %q %v", r.status, r.body, r.header)
	}
}

// logBuffer collects log records for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestHTTPErrorMessagesHideInternals provokes client errors whose internal
// error names storage keys, file instance ids and layers, and checks that
// the message shown names none of them (only ids the request itself
// carries) while the log keeps the detail.
func TestHTTPErrorMessagesHideInternals(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		logs := &logBuffer{}
		s := newServer(t, d, fileshttp.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
		b := s.createBucket(t, `{"quota": 1000, "max_file_size": 800}`)
		if r := s.do(t, "PUT", "/"+b+"/gone.bin", []byte("some bytes")); r.status != 200 {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
		o, err := s.env.Store.Object(context.Background(), b, "gone.bin", "")
		if err != nil {
			t.Fatal(err)
		}
		// Bytes lost under a committed row.
		if err := os.Remove(filepath.Join(s.env.Dirs["local"], filepath.FromSlash(o.File.StorageKey))); err != nil {
			t.Fatal(err)
		}
		chunked := func(body string) io.Reader { return io.MultiReader(strings.NewReader(body)) } // no Content-Length
		cases := []struct {
			name, method, path string
			body               io.Reader
			hdr                []string
			status             int
		}{
			{"bytes missing", "GET", "/" + b + "/gone.bin", nil, nil, 404},
			{"bad Content-MD5", "PUT", "/" + b + "/x.bin", strings.NewReader("abc"), []string{"Content-MD5", md5b64([]byte("xyz"))}, 400},
			{"quota mid-stream", "PUT", "/" + b + "/big.bin", chunked(strings.Repeat("q", 900)), nil, 413},
			{"announced too large", "PUT", "/" + b + "/big.bin", strings.NewReader(strings.Repeat("q", 850)), nil, 413},
			{"no such version", "GET", "/" + b + "/gone.bin?versionId=" + "00000000-0000-0000-0000-000000000000", nil, nil, 404},
			{"no such object", "GET", "/" + b + "/nothing", nil, nil, 404},
			{"no such bucket", "GET", "/11111111-1111-1111-1111-111111111111/a", nil, nil, 404},
			{"bad key", "PUT", "/" + b + "/a/../b", strings.NewReader("x"), nil, 400},
		}
		for _, c := range cases {
			req, err := http.NewRequest(c.method, s.URL+prefix+c.path, c.body)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(c.hdr); i += 2 {
				req.Header.Set(c.hdr[i], c.hdr[i+1])
			}
			res, err := s.client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			r := resp{res.StatusCode, res.Header, body}
			expectError(t, r, c.status)
			msg := r.json(t)["message"].(string)
			for _, bad := range []string{"files/", o.File.ID, "storage", "files:", "fileshttp", "sql", "pq:", "Error 1"} {
				if strings.Contains(msg, bad) {
					t.Errorf("%s: message %q contains %q", c.name, msg, bad)
				}
			}
			path, _ := url.PathUnescape(c.path)
			for _, id := range uuidRE.FindAllString(msg, -1) {
				if !strings.Contains(path, id) {
					t.Errorf("%s: message %q names id %s the request did not", c.name, msg, id)
				}
			}
		}
		// The detail is in the log.
		if l := logs.String(); !strings.Contains(l, o.File.StorageKey) {
			t.Fatalf("log lacks the storage key of the missing bytes:\n%s", l)
		}
	})
}

// TestHTTPKeyPolicy: NFC and NFD spellings of a name are one key; DELETE
// of an absent or deleted key is 204 and writes nothing; DELETE of an
// absent version is 404.
func TestHTTPKeyPolicy(t *testing.T) {
	s := newServer(t, sqldb.SQLite)
	b := s.createBucket(t, "")
	nfc, nfd := "caf\u00e9.txt", "cafe\u0301.txt"
	if r := s.do(t, "PUT", "/"+b+"/"+url.PathEscape(nfd), []byte("v1")); r.status != 200 || r.json(t)["key"] != nfc {
		t.Fatalf("put NFD: %d %s", r.status, r.body)
	}
	if r := s.do(t, "PUT", "/"+b+"/"+url.PathEscape(nfc), []byte("v2")); r.status != 200 {
		t.Fatalf("put NFC: %d %s", r.status, r.body)
	}
	if r := s.do(t, "GET", "/"+b+"/"+url.PathEscape(nfd), nil); r.status != 200 || string(r.body) != "v2" {
		t.Fatalf("get NFD: %d %q", r.status, r.body)
	}
	versions := func() []any {
		return s.do(t, "GET", "/"+b+"?versions", nil).json(t)["contents"].([]any)
	}
	if v := versions(); len(v) != 2 || v[0].(map[string]any)["key"] != nfc || v[1].(map[string]any)["key"] != nfc {
		t.Fatalf("versions: %v", v)
	}
	for range 2 { // the second DELETE finds a delete marker
		if r := s.do(t, "DELETE", "/"+b+"/"+url.PathEscape(nfd), nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
	}
	if r := s.do(t, "DELETE", "/"+b+"/never-there", nil); r.status != 204 {
		t.Fatalf("delete absent: %d %s", r.status, r.body)
	}
	if v := versions(); len(v) != 3 {
		t.Fatalf("versions after deletes: %d, want 2 + one marker", len(v))
	}
	expectError(t, s.do(t, "DELETE", "/"+b+"/never-there?versionId=00000000-0000-0000-0000-000000000000", nil), 404)
	expectError(t, s.do(t, "DELETE", "/22222222-2222-2222-2222-222222222222/k", nil), 404)
	if _, err := s.env.Store.Object(context.Background(), b, nfd, ""); err == nil {
		t.Fatal("deleted key still visible")
	}
	if got := files.NormalizeKey(nfd); got != nfc {
		t.Fatalf("NormalizeKey(%q) = %q", nfd, got)
	}
}

// TestHTTPRefusalsThroughHTTPErr: a permission refusal is answered with
// httperr's mapping (401 for an anonymous access refusal, 403 otherwise,
// 404 for files.ErrNotFound), and a files user error shows its detail.
func TestHTTPRefusalsThroughHTTPErr(t *testing.T) {
	var refuse error
	s := newServer(t, sqldb.SQLite, fileshttp.WithPermission(func(r *http.Request, a fileshttp.Action, res fileshttp.Resource) error {
		if a == fileshttp.ActionObjectRead {
			return refuse
		}
		return nil
	}))
	b := s.createBucket(t, `{"max_file_size": 4}`)
	if r := s.do(t, "PUT", "/"+b+"/a.txt", []byte("abc")); r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		err    error
		status int
		msg    string
	}{
		{&access.ForbiddenError{Action: access.ReadFiles, ResourceType: "record", Anonymous: true}, 401, "sign in to read-files this record"},
		{&access.ForbiddenError{Action: access.ReadFiles, ResourceType: "record"}, 403, "you are not allowed to read-files this record"},
		{errors.New("internal reason 10.0.0.1"), 403, "permission denied"},
		{fmt.Errorf("hidden: %w", files.ErrNotFound), 404, "not found"},
	} {
		refuse = c.err
		r := s.do(t, "GET", "/"+b+"/a.txt", nil)
		expectError(t, r, c.status)
		if m := r.json(t)["message"]; m != c.msg {
			t.Errorf("%v: message %q, want %q", c.err, m, c.msg)
		}
		if c.status == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	r := s.do(t, "PUT", "/"+b+"/big.txt", []byte("too long"))
	expectError(t, r, 413)
	if m, _ := r.json(t)["message"].(string); !strings.HasPrefix(m, "larger than the bucket's maximum file size") || m == "larger than the bucket's maximum file size" {
		t.Errorf("413 message %q lacks the files detail", m)
	}
}
