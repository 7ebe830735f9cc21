package webdav_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/webdav"
	"github.com/repokit/repokit/storage/webdav/webdavtest"
)

// faults wraps the in-process x/net/webdav server: fail(method) returns
// the fault to inject for the next request of that method (nil: pass).
type faults struct {
	mu    sync.Mutex
	rules map[string]func(w http.ResponseWriter, r *http.Request, next http.Handler)
	seen  []string // methods received
}

func (f *faults) set(method string, fn func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules = map[string]func(http.ResponseWriter, *http.Request, http.Handler){}
	}
	if fn == nil {
		delete(f.rules, method)
		return
	}
	f.rules[method] = fn
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fn := f.rules[r.Method]
		f.seen = append(f.seen, r.Method)
		f.mu.Unlock()
		if fn != nil {
			fn(w, r, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func status(code int) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		http.Error(w, http.StatusText(code), code)
	}
}

// cutBody lets the real server store the first n bytes of the PUT body
// (as a server writing in place does), then drops the connection.
func cutBody(n int64) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		r.Body = io.NopCloser(io.LimitReader(r.Body, n))
		rec := &discardWriter{h: http.Header{}}
		next.ServeHTTP(rec, r) // stores n bytes under the temporary name
		panic(http.ErrAbortHandler)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// cutResponse sends the headers and the first n bytes of the answer, then
// drops the connection.
func cutResponse(n int) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(&cutWriter{ResponseWriter: w, left: n}, r)
		panic(http.ErrAbortHandler)
	}
}

type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if c.left <= 0 {
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	if len(b) > c.left {
		b = b[:c.left]
	}
	n, err := c.ResponseWriter.Write(b)
	c.left -= n
	return n, err
}

func faultLocation(t *testing.T) (*storage.Location, *faults, string) {
	t.Helper()
	f := &faults{}
	raw, dir := webdavtest.NewXNetServer(t, f.wrap)
	l, err := storage.OpenLocation(context.Background(), "faulty", raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, f, dir
}

// serverFiles lists every regular file under dir (what the server really holds).
func serverFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>9)
	}
	return b
}

// TestFaults: every server fault gives a typed error, and no partial object
// (not even a temporary one) is left on the server.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	payload := data(3<<20 + 17)
	for _, c := range []struct {
		name   string
		method string
		fault  func(http.ResponseWriter, *http.Request, http.Handler)
		size   int64 // announced size (-1 unknown)
		want   []error
		code   int // StatusError code, 0 if a connection error
	}{
		{"507 on PUT", "PUT", status(http.StatusInsufficientStorage), -1, []error{storage.ErrInsufficientStorage}, 507},
		{"507 on PUT with size", "PUT", status(http.StatusInsufficientStorage), int64(len(payload)), []error{storage.ErrInsufficientStorage}, 507},
		{"423 on PUT", "PUT", status(http.StatusLocked), -1, []error{webdav.ErrLocked, storage.ErrUnavailable}, 423},
		{"423 on MOVE", "MOVE", status(http.StatusLocked), -1, []error{webdav.ErrLocked, storage.ErrUnavailable}, 423},
		{"500 on PUT", "PUT", status(http.StatusInternalServerError), -1, []error{webdav.ErrServer, storage.ErrUnavailable}, 500},
		{"502 on MOVE", "MOVE", status(http.StatusBadGateway), int64(len(payload)), []error{webdav.ErrServer, storage.ErrUnavailable}, 502},
		{"507 on MOVE", "MOVE", status(http.StatusInsufficientStorage), -1, []error{storage.ErrInsufficientStorage}, 507},
		{"cut mid-upload", "PUT", cutBody(1 << 20), -1, []error{webdav.ErrConnection, storage.ErrUnavailable}, 0},
		{"cut mid-upload with size", "PUT", cutBody(2 << 20), int64(len(payload)), []error{webdav.ErrConnection, storage.ErrUnavailable}, 0},
		{"401 on PUT", "PUT", status(http.StatusUnauthorized), -1, []error{webdav.ErrAuth}, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, f, dir := faultLocation(t)
			f.set(c.method, c.fault)
			key := storage.NewKey()
			_, err := l.Write(ctx, key, bytes.NewReader(payload), storage.WriteOptions{ExpectedSize: c.size})
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Fatalf("err = %v, want %v", err, w)
				}
			}
			var se *webdav.StatusError
			if c.code != 0 && (!errors.As(err, &se) || se.Code != c.code) {
				t.Fatalf("err = %v, want a StatusError %d", err, c.code)
			}
			f.set(c.method, nil)
			if ok, err := l.Exists(ctx, key); ok || err != nil {
				t.Fatalf("Exists after a failed write = %v, %v", ok, err)
			}
			for o, err := range l.List(ctx, "") {
				if err != nil {
					t.Fatal(err)
				}
				t.Fatalf("left behind: %s (%d bytes)", o.Key, o.Size)
			}
			if left := serverFiles(t, dir); len(left) != 0 {
				t.Fatalf("files left on the server: %v", left)
			}
			// The location still works.
			if _, err := l.Write(ctx, key, bytes.NewReader(payload[:1000]), storage.WriteOptions{ExpectedSize: 1000}); err != nil {
				t.Fatalf("write after the fault: %v", err)
			}
		})
	}
}

// TestFailedWriteKeepsOld: a fault while overwriting leaves the old bytes.
func TestFailedWriteKeepsOld(t *testing.T) {
	ctx := context.Background()
	l, f, _ := faultLocation(t)
	key := storage.NewKey()
	old := data(5000)
	if _, err := l.Write(ctx, key, bytes.NewReader(old), storage.WriteOptions{ExpectedSize: 5000}); err != nil {
		t.Fatal(err)
	}
	f.set("PUT", cutBody(100000))
	if _, err := l.Write(ctx, key, bytes.NewReader(data(1<<20)), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	f.set("PUT", nil)
	r, err := l.NewReader(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, _ := io.ReadAll(r); !bytes.Equal(got, old) {
		t.Fatalf("object changed by a failed write (%d bytes)", len(got))
	}
}

// TestReadFaults: a download cut mid-body, and failing stat, list, delete
// and copy, give typed errors.
func TestReadFaults(t *testing.T) {
	ctx := context.Background()
	l, f, _ := faultLocation(t)
	key := storage.NewKey()
	payload := data(2<<20 + 5)
	if _, err := l.Write(ctx, key, bytes.NewReader(payload), storage.WriteOptions{ExpectedSize: int64(len(payload))}); err != nil {
		t.Fatal(err)
	}
	f.set("GET", cutResponse(1<<20))
	if _, err := l.Checksum(ctx, key); !errors.Is(err, webdav.ErrConnection) || !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("checksum over a cut download: %v", err)
	}
	r, err := l.NewReader(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if !errors.Is(err, storage.ErrUnavailable) || !bytes.Equal(got, payload[:len(got)]) || len(got) >= len(payload) {
		t.Fatalf("cut download: %d bytes, %v", len(got), err)
	}
	f.set("GET", status(http.StatusServiceUnavailable))
	if _, err := l.NewReader(ctx, key); !errors.Is(err, webdav.ErrServer) {
		t.Fatalf("GET 503: %v", err)
	}
	f.set("GET", nil)
	f.set("PROPFIND", status(http.StatusServiceUnavailable))
	for _, err := range l.List(ctx, "") {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("list with PROPFIND 503: %v", err)
		}
	}
	f.set("PROPFIND", nil)
	f.set("DELETE", status(http.StatusLocked))
	if err := l.Delete(ctx, key); !errors.Is(err, webdav.ErrLocked) {
		t.Fatalf("delete 423: %v", err)
	}
	f.set("DELETE", nil)
	f.set("COPY", status(http.StatusInsufficientStorage))
	dst := storage.NewKey()
	if _, err := l.Copy(ctx, dst, l, key, storage.WriteOptions{ExpectedSize: storage.UnknownSize}); !errors.Is(err, storage.ErrInsufficientStorage) {
		t.Fatalf("copy 507: %v", err)
	}
	f.set("COPY", nil)
	var keys []string
	for o, err := range l.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != key {
		t.Fatalf("after the faults the location holds %v", keys)
	}
}

// TestHeadRefused: where HEAD answers 405 (XrdHttp) stat falls back to
// PROPFIND, and ranges still work.
func TestHeadRefused(t *testing.T) {
	ctx := context.Background()
	l, f, _ := faultLocation(t)
	f.set("HEAD", status(http.StatusMethodNotAllowed))
	key := "dir/sub dir/ü+%#?.bin"
	payload := data(70000)
	if _, err := l.Write(ctx, key, bytes.NewReader(payload), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
		t.Fatal(err)
	}
	info, err := l.Stat(ctx, key)
	if err != nil || info.Size != int64(len(payload)) || info.ModTime.IsZero() || info.ETag == "" {
		t.Fatalf("stat = %+v, %v", info, err)
	}
	if _, err := l.Stat(ctx, "dir/sub dir"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("stat of a collection: %v", err)
	}
	if err := l.Delete(ctx, "dir"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("delete of a collection: %v", err)
	}
	r, err := l.NewRangeReader(ctx, key, 1000, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, payload[1000:1010]) {
		t.Fatalf("range = %x", got)
	}
	n := 0
	for o, err := range l.List(ctx, "dir/") {
		if err != nil || o.Key != key {
			t.Fatalf("list: %+v %v", o, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("listed %d", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(strings.Join(f.seen, " "), "HEAD") {
		t.Fatal("no HEAD was tried")
	}
}

// TestCredentials: basic auth from the URL or the environment, a bearer
// token from token= or the environment, never both.
func TestCredentials(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	raw, _ := webdavtest.NewXNetServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.Header.Get("Authorization"))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	host := strings.TrimPrefix(raw, "webdav://")
	basic := func(u, p string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	}
	for _, c := range []struct {
		url  string
		env  map[string]string
		want string
	}{
		{"webdav://alice:s3cret@" + host, nil, basic("alice", "s3cret")},
		{"webdav://" + host, map[string]string{webdav.EnvUser: "bob", webdav.EnvPassword: "pw"}, basic("bob", "pw")},
		{"webdav://" + host + "?token=tok1", nil, "Bearer tok1"},
		{"webdav://" + host, map[string]string{webdav.EnvToken: "tok2"}, "Bearer tok2"},
		{"webdav://carol:x@" + host, map[string]string{webdav.EnvToken: "ignored"}, basic("carol", "x")},
		{"webdav://" + host, nil, ""},
	} {
		for _, k := range []string{webdav.EnvUser, webdav.EnvPassword, webdav.EnvToken} {
			t.Setenv(k, c.env[k])
		}
		l, err := storage.OpenLocation(ctx, "cred", c.url)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(l.URL(), "s3cret") || strings.Contains(l.URL(), "tok1") {
			t.Fatalf("URL() shows a secret: %s", l.URL())
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if _, err := l.Exists(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		l.Close()
		mu.Lock()
		if len(got) == 0 || got[0] != c.want {
			t.Fatalf("%s: Authorization %q, want %q", c.url, got, c.want)
		}
		mu.Unlock()
	}
	for _, bad := range []string{"webdav://u:p@" + host + "?token=t", "webdav://" + host + "?nope=1", "webdav:///nohost", "webdav://" + host + "?timeout=-1s"} {
		if _, err := storage.OpenLocation(ctx, "bad", bad); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("%s: %v, want ErrInvalid", bad, err)
		}
	}
}

// TestDigest: RFC 3230 digests where the server offers them.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	payload := data(12345)
	sum := md5.Sum(payload)
	var asked atomic.Value
	raw, _ := webdavtest.NewXNetServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if want := r.Header.Get("Want-Digest"); want != "" {
				asked.Store(want)
				if strings.Contains(want, "md5") {
					w.Header().Set("Digest", "adler32=0a0b0c0d, md5="+base64.StdEncoding.EncodeToString(sum[:]))
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	l, err := storage.OpenLocation(ctx, "dig", raw)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	key := storage.NewKey()
	res, err := l.Write(ctx, key, bytes.NewReader(payload), storage.WriteOptions{ExpectedSize: storage.UnknownSize})
	if err != nil {
		t.Fatal(err)
	}
	var c *webdav.Client
	if !l.Bucket().As(&c) {
		t.Fatal("As(*webdav.Client) failed")
	}
	d, err := c.Digest(ctx, key, "md5")
	if err != nil || d != res.Checksums.MD5 {
		t.Fatalf("Digest = %q, %v; want %s", d, err, res.Checksums.MD5)
	}
	if asked.Load() != "md5" {
		t.Fatalf("Want-Digest %v", asked.Load())
	}
	if _, err := c.Digest(ctx, key, "sha256"); !errors.Is(err, storage.ErrUnsupported) {
		t.Fatalf("digest the server does not offer: %v", err)
	}
	if _, err := c.Digest(ctx, "missing", "md5"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("digest of a missing key: %v", err)
	}
}

// TestXRootDDigest: xrootd (xrootd.chksum md5) answers Want-Digest with the
// md5 storage computed while writing.
func TestXRootDDigest(t *testing.T) {
	ctx := context.Background()
	l := webdavtest.OpenXRootD(t)
	payload := data(1<<20 + 3)
	key := storage.NewKey()
	res, err := l.Write(ctx, key, bytes.NewReader(payload), storage.WriteOptions{ExpectedSize: int64(len(payload))})
	if err != nil {
		t.Fatal(err)
	}
	var c *webdav.Client
	if !l.Bucket().As(&c) {
		t.Fatal("As(*webdav.Client) failed")
	}
	d, err := c.Digest(ctx, key, "md5")
	if err != nil || d != res.Checksums.MD5 {
		t.Fatalf("Digest = %q, %v; want %s", d, err, res.Checksums.MD5)
	}
}

// TestPrefix: gocloud's prefix= puts every key under a sub-collection.
func TestPrefix(t *testing.T) {
	ctx := context.Background()
	raw, dir := webdavtest.NewXNetServer(t, nil)
	l, err := storage.OpenLocation(ctx, "pre", raw+"?prefix=tenant-a/")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Write(ctx, "k/v", bytes.NewReader([]byte("x")), storage.WriteOptions{ExpectedSize: 1}); err != nil {
		t.Fatal(err)
	}
	if got := serverFiles(t, dir); len(got) != 1 || got[0] != "tenant-a/k/v" {
		t.Fatalf("server holds %v", got)
	}
	for o, err := range l.List(ctx, "") {
		if err != nil || o.Key != "k/v" {
			t.Fatalf("list: %+v %v", o, err)
		}
	}
}
