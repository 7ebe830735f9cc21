package storagetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/storage"
)

// RunConformance runs the whole suite against d; each subtest opens its own
// fresh location with d.Open.
func RunConformance(t *testing.T, d Driver) {
	tests := []struct {
		name string
		fn   func(t *testing.T, d Driver)
	}{
		{"WriteRead", testWriteRead},
		{"WriteEmpty", testWriteEmpty},
		{"ConcurrentWrites", testConcurrentWrites},
		{"TooLargeMidStream", testTooLargeMidStream},
		{"TooLargeAnnounced", testTooLargeAnnounced},
		{"AbortedLargeWriteLeavesNoUpload", testAbortedLargeWrite},
		{"SizeMismatch", testSizeMismatch},
		{"ContentMD5", testContentMD5},
		{"ExpectedChecksum", testExpectedChecksum},
		{"FailedWriteKeepsOldObject", testFailedWriteKeepsOld},
		{"SourceErrorLeavesNothing", testSourceError},
		{"CancelLeavesNothing", testCancel},
		{"InvalidKeys", testInvalidKeys},
		{"NotFound", testNotFound},
		{"RangeReads", testRangeReads},
		{"ServeContentRange", testServeContentRange},
		{"List", testList},
		{"Copy", testCopy},
		{"Checksum", testChecksum},
		{"SignedURL", testSignedURL},
		{"Multipart", testMultipart},
		{"MultipartAbort", testMultipartAbort},
		{"MultipartErrors", testMultipartErrors},
		{"Uploads", testUploads},
		{"ReadWhileDeleted", testReadWhileDeleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, d)
		})
	}
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func sums(b []byte) storage.Checksums {
	m := md5.Sum(b)
	s := sha256.Sum256(b)
	return storage.Checksums{MD5: "md5:" + hex.EncodeToString(m[:]), SHA256: "sha256:" + hex.EncodeToString(s[:])}
}

func mustWrite(t *testing.T, l *storage.Location, key string, b []byte) storage.WriteResult {
	t.Helper()
	res, err := l.Write(context.Background(), key, bytes.NewReader(b), storage.WriteOptions{ExpectedSize: int64(len(b))})
	if err != nil {
		t.Fatalf("write %s: %v", key, err)
	}
	return res
}

func readAll(t *testing.T, l *storage.Location, key string) []byte {
	t.Helper()
	r, err := l.NewReader(context.Background(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// assertGone checks that key does not exist and that nothing else was left
// under its directory (temporary files of an aborted write).
func assertGone(t *testing.T, l *storage.Location, key string) {
	t.Helper()
	ctx := context.Background()
	ok, err := l.Exists(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("%s exists after a failed write", key)
	}
	dir := key[:strings.LastIndex(key, "/")+1]
	for o, err := range l.List(ctx, dir) {
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("left behind under %s: %s (%d bytes)", dir, o.Key, o.Size)
	}
}

// countingReader counts what the location consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func testWriteRead(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(1, 3<<20+12345) // crosses the 1 MiB pump chunks
	key := storage.NewKey()
	res, err := l.Write(ctx, key, bytes.NewReader(data), storage.WriteOptions{MaxSize: int64(len(data)), ExpectedSize: storage.UnknownSize, ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != int64(len(data)) || res.Checksums != sums(data) {
		t.Fatalf("result %+v, want size %d %+v", res, len(data), sums(data))
	}
	if got := readAll(t, l, key); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes differing from the %d written", len(got), len(data))
	}
	info, err := l.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.ModTime.IsZero() {
		t.Fatalf("stat %+v", info)
	}
	// Drivers that keep no content type report "" or application/octet-stream.
	if info.ContentType != "" && info.ContentType != "application/octet-stream" && info.ContentType != "application/pdf" {
		t.Fatalf("content type %q", info.ContentType)
	}
	if ok, err := l.Exists(ctx, key); err != nil || !ok {
		t.Fatalf("exists = %v, %v", ok, err)
	}
	r, err := l.NewReader(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(data)) || r.ModTime().IsZero() {
		t.Fatalf("reader size %d modtime %v", r.Size(), r.ModTime())
	}
	r.Close()
	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Exists(ctx, key); ok {
		t.Fatal("exists after delete")
	}
	// A fresh key per write never collides.
	if a, b := storage.NewKey(), storage.NewKey(); a == b {
		t.Fatal("NewKey repeated a key")
	}
}

func testWriteEmpty(t *testing.T, d Driver) {
	l := d.Open(t)
	key := storage.NewKey()
	res, err := l.Write(context.Background(), key, bytes.NewReader(nil), storage.WriteOptions{ExpectedSize: 0})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != 0 || res.Checksums != sums(nil) {
		t.Fatalf("empty write: %+v", res)
	}
	if got := readAll(t, l, key); len(got) != 0 {
		t.Fatalf("read %d bytes", len(got))
	}
}

func testTooLargeMidStream(t *testing.T, d Driver) {
	l := d.Open(t)
	const limit = 2<<20 + 7
	data := randBytes(2, 8<<20)
	key := storage.NewKey()
	cr := &countingReader{r: bytes.NewReader(data)}
	_, err := l.Write(context.Background(), key, cr, storage.WriteOptions{MaxSize: limit, ExpectedSize: storage.UnknownSize})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	// Stopped the moment the limit was passed: at most one chunk read past it.
	if cr.n >= int64(len(data)) || cr.n > limit+(1<<20) {
		t.Fatalf("read %d bytes of %d with a %d limit: not stopped early", cr.n, len(data), limit)
	}
	assertGone(t, l, key)
	// Exactly at the limit is fine.
	res, err := l.Write(context.Background(), key, bytes.NewReader(data[:limit]), storage.WriteOptions{MaxSize: limit, ExpectedSize: storage.UnknownSize})
	if err != nil || res.Size != limit {
		t.Fatalf("write at the limit: %+v %v", res, err)
	}
}

func testTooLargeAnnounced(t *testing.T, d Driver) {
	l := d.Open(t)
	key := storage.NewKey()
	cr := &countingReader{r: bytes.NewReader(randBytes(3, 1000))}
	_, err := l.Write(context.Background(), key, cr, storage.WriteOptions{MaxSize: 999, ExpectedSize: 1000})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if cr.n != 0 {
		t.Fatalf("read %d bytes although the announced size was over the limit", cr.n)
	}
	assertGone(t, l, key)
}

func testSizeMismatch(t *testing.T, d Driver) {
	l := d.Open(t)
	data := randBytes(4, 1<<20+100)
	for _, exp := range []int64{int64(len(data)) - 1, int64(len(data)) + 1, 0} {
		key := storage.NewKey()
		_, err := l.Write(context.Background(), key, bytes.NewReader(data), storage.WriteOptions{ExpectedSize: exp})
		if !errors.Is(err, storage.ErrSizeMismatch) {
			t.Fatalf("expected %d, sent %d: err = %v, want ErrSizeMismatch", exp, len(data), err)
		}
		assertGone(t, l, key)
	}
	_, err := l.Write(context.Background(), storage.NewKey(), bytes.NewReader(data), storage.WriteOptions{ExpectedSize: -2})
	if !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("expected size -2: err = %v, want ErrInvalid", err)
	}
}

func testContentMD5(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(5, 1<<20+3)
	m := md5.Sum(data)
	for _, form := range []string{base64.StdEncoding.EncodeToString(m[:]), hex.EncodeToString(m[:]), string(m[:])} {
		if _, err := l.Write(ctx, storage.NewKey(), bytes.NewReader(data), storage.WriteOptions{ExpectedSize: storage.UnknownSize, ContentMD5: form}); err != nil {
			t.Fatalf("correct Content-MD5 %q: %v", form, err)
		}
	}
	bad := md5.Sum(append([]byte("x"), data...))
	key := storage.NewKey()
	_, err := l.Write(ctx, key, bytes.NewReader(data), storage.WriteOptions{ExpectedSize: storage.UnknownSize, ContentMD5: base64.StdEncoding.EncodeToString(bad[:])})
	if !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("wrong Content-MD5: err = %v, want ErrChecksumMismatch", err)
	}
	assertGone(t, l, key)
	cr := &countingReader{r: bytes.NewReader(data)}
	_, err = l.Write(ctx, key, cr, storage.WriteOptions{ExpectedSize: storage.UnknownSize, ContentMD5: "not-an-md5"})
	if !errors.Is(err, storage.ErrInvalid) || cr.n != 0 {
		t.Fatalf("malformed Content-MD5: err = %v after reading %d bytes, want ErrInvalid before reading", err, cr.n)
	}
	assertGone(t, l, key)
}

func testExpectedChecksum(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(6, 70000)
	want := sums(data)
	for _, c := range []string{want.MD5, want.SHA256, want.SHA256[:7] + strings.ToUpper(want.SHA256[7:])} {
		if _, err := l.Write(ctx, storage.NewKey(), bytes.NewReader(data), storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: c}); err != nil {
			t.Fatalf("expected checksum %s: %v", c, err)
		}
	}
	other := sums(data[1:])
	for _, c := range []string{other.MD5, other.SHA256} {
		key := storage.NewKey()
		_, err := l.Write(ctx, key, bytes.NewReader(data), storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: c})
		if !errors.Is(err, storage.ErrChecksumMismatch) {
			t.Fatalf("wrong %s: err = %v", c, err)
		}
		assertGone(t, l, key)
	}
	for _, c := range []string{"crc32:1234", "md5:zz", "sha256:" + strings.Repeat("a", 10)} {
		_, err := l.Write(ctx, storage.NewKey(), bytes.NewReader(data), storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: c})
		if !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("malformed %q: err = %v", c, err)
		}
	}
}

func testFailedWriteKeepsOld(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	key := storage.NewKey()
	old := randBytes(7, 5000)
	mustWrite(t, l, key, old)
	_, err := l.Write(ctx, key, bytes.NewReader(randBytes(8, 3<<20)), storage.WriteOptions{MaxSize: 1 << 20, ExpectedSize: storage.UnknownSize})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if got := readAll(t, l, key); !bytes.Equal(got, old) {
		t.Fatalf("a failed write changed the existing object (%d bytes now)", len(got))
	}
}

type failingReader struct {
	r     io.Reader
	after int64
	n     int64
}

var errSource = errors.New("client went away")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n >= f.after {
		return 0, errSource
	}
	if int64(len(p)) > f.after-f.n {
		p = p[:f.after-f.n]
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	return n, err
}

func testSourceError(t *testing.T, d Driver) {
	l := d.Open(t)
	key := storage.NewKey()
	fr := &failingReader{r: bytes.NewReader(randBytes(9, 4<<20)), after: 2<<20 + 5}
	_, err := l.Write(context.Background(), key, fr, storage.WriteOptions{ExpectedSize: 4 << 20})
	if !errors.Is(err, errSource) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	assertGone(t, l, key)
}

// blockingReader serves n bytes, then cancels and blocks until ctx is done.
type blockingReader struct {
	data   []byte
	ctx    context.Context
	cancel func()
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		b.cancel()
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func testCancel(t *testing.T, d Driver) {
	l := d.Open(t)
	key := storage.NewKey()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	br := &blockingReader{data: randBytes(10, 2<<20+1), ctx: ctx, cancel: cancel}
	_, err := l.Write(ctx, key, br, storage.WriteOptions{ExpectedSize: storage.UnknownSize})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertGone(t, l, key)
}

func testInvalidKeys(t *testing.T, d Driver) {
	l := d.Open(t)
	if _, err := l.Write(context.Background(), storage.NewKey(), bytes.NewReader([]byte("x")), storage.WriteOptions{ExpectedSize: 1, ContentType: "text/html; ="}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("bad content type: err = %v, want ErrInvalid", err)
	}
	for _, k := range []string{"", "/abs", "a/../b", "a//b", "a/./b", "a/", "nul\x00byte", "tab\tkey", "x../y", "bad\xffutf8", strings.Repeat("k", storage.MaxKeyLength+1)} {
		if _, err := l.Write(context.Background(), k, bytes.NewReader([]byte("x")), storage.WriteOptions{ExpectedSize: 1}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("key %q: err = %v, want ErrInvalid", k, err)
		}
	}
}

func testNotFound(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	key := storage.NewKey()
	if _, err := l.NewReader(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("NewReader: %v", err)
	}
	if _, err := l.NewRangeReader(ctx, key, 1, 2); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("NewRangeReader: %v", err)
	}
	if _, err := l.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat: %v", err)
	}
	if _, err := l.Checksum(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Checksum: %v", err)
	}
	if err := l.Delete(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Delete: %v", err)
	}
	if _, err := l.Copy(ctx, storage.NewKey(), l, key, storage.WriteOptions{ExpectedSize: storage.UnknownSize}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Copy: %v", err)
	}
	if ok, err := l.Exists(ctx, key); ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
}

func testRangeReads(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(11, 1<<20+777)
	key := storage.NewKey()
	mustWrite(t, l, key, data)
	n := int64(len(data))
	for _, c := range []struct{ off, length int64 }{
		{0, -1}, {0, 1}, {1, 10}, {1 << 20, 777}, {n - 1, 1}, {n - 10, 100}, {n, -1}, {n + 5, 10}, {123, 0}, {500000, -1},
	} {
		r, err := l.NewRangeReader(ctx, key, c.off, c.length)
		if err != nil {
			t.Fatalf("range %d+%d: %v", c.off, c.length, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("range %d+%d: %v", c.off, c.length, err)
		}
		lo := min(c.off, n)
		hi := n
		if c.length >= 0 {
			hi = min(n, c.off+c.length)
		}
		if !bytes.Equal(got, data[lo:hi]) {
			t.Fatalf("range %d+%d: got %d bytes, want %d (data[%d:%d])", c.off, c.length, len(got), hi-lo, lo, hi)
		}
	}
	if _, err := l.NewRangeReader(ctx, key, -1, 5); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("negative offset: %v", err)
	}
	// Seek on a full reader.
	r, err := l.NewReader(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Seek(1000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, data[1000:1064]) {
		t.Fatalf("after seek: %v", err)
	}
	if pos, err := r.Seek(-10, io.SeekEnd); err != nil || pos != n-10 {
		t.Fatalf("seek end: %d %v", pos, err)
	}
	if rest, err := io.ReadAll(r); err != nil || !bytes.Equal(rest, data[n-10:]) {
		t.Fatalf("tail after seek: %v", err)
	}
}

func testServeContentRange(t *testing.T, d Driver) {
	l := d.Open(t)
	data := randBytes(12, 300000)
	key := storage.NewKey()
	mustWrite(t, l, key, data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd, err := l.NewReader(r.Context(), key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rd.Close()
		http.ServeContent(w, r, "x.bin", rd.ModTime(), rd)
	}))
	defer srv.Close()
	for _, c := range []struct {
		rng    string
		status int
		want   []byte
	}{
		{"bytes=0-99", 206, data[:100]},
		{"bytes=299990-", 206, data[299990:]},
		{"bytes=-5", 206, data[len(data)-5:]},
		{"bytes=1000-1000", 206, data[1000:1001]},
		{"bytes=400000-", 416, nil},
		{"", 200, data},
	} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if c.rng != "" {
			req.Header.Set("Range", c.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.want != nil && !bytes.Equal(body, c.want)) {
			t.Fatalf("Range %q: status %d, %d bytes; want %d, %d bytes", c.rng, resp.StatusCode, len(body), c.status, len(c.want))
		}
	}
}

func testList(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	var keys []string
	for i := range 5 {
		k := fmt.Sprintf("list/%c/obj-%d", 'a'+i%2, i)
		mustWrite(t, l, k, randBytes(uint64(100+i), 10+i))
		keys = append(keys, k)
	}
	mustWrite(t, l, "other/x", []byte("x"))
	var got []string
	for o, err := range l.List(ctx, "list/") {
		if err != nil {
			t.Fatal(err)
		}
		if o.ModTime.IsZero() || o.Size < 10 {
			t.Fatalf("list entry %+v", o)
		}
		got = append(got, o.Key)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Fatalf("List(list/) = %v, want %v", got, keys)
	}
	// Breaking out of the loop early is fine.
	for range l.List(ctx, "") {
		break
	}
	all := 0
	for _, err := range l.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		all++
	}
	if all != 6 {
		t.Fatalf("List() saw %d objects, want 6", all)
	}
}

func testCopy(t *testing.T, d Driver) {
	l := d.Open(t)
	other := OpenMem(t)
	ctx := context.Background()
	data := randBytes(13, 1<<20+99)
	src := storage.NewKey()
	w := mustWrite(t, l, src, data)
	// Server-side within the location.
	dst := storage.NewKey()
	res, err := l.Copy(ctx, dst, l, src, storage.WriteOptions{ExpectedSize: int64(len(data))})
	if err != nil || res.Size != int64(len(data)) {
		t.Fatalf("copy: %+v %v", res, err)
	}
	if got := readAll(t, l, dst); !bytes.Equal(got, data) {
		t.Fatal("copy differs")
	}
	// Verified server-side copy.
	dst2 := storage.NewKey()
	res, err = l.Copy(ctx, dst2, l, src, storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: w.Checksums.SHA256})
	if err != nil || res.Checksums != w.Checksums {
		t.Fatalf("verified copy: %+v %v", res, err)
	}
	bad := storage.NewKey()
	_, err = l.Copy(ctx, bad, l, src, storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: sums(data[1:]).MD5})
	if !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("copy with a wrong checksum: %v", err)
	}
	assertGone(t, l, bad)
	if _, err := l.Copy(ctx, storage.NewKey(), l, src, storage.WriteOptions{ExpectedSize: 5}); !errors.Is(err, storage.ErrSizeMismatch) {
		t.Fatalf("copy with a wrong size: %v", err)
	}
	if _, err := l.Copy(ctx, storage.NewKey(), l, src, storage.WriteOptions{ExpectedSize: storage.UnknownSize, MaxSize: 5}); !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("copy over the limit: %v", err)
	}
	// Streamed across locations, both ways.
	x := storage.NewKey()
	res, err = other.Copy(ctx, x, l, src, storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: w.Checksums.MD5})
	if err != nil || res.Checksums != w.Checksums {
		t.Fatalf("copy across: %+v %v", res, err)
	}
	back := storage.NewKey()
	if res, err = l.Copy(ctx, back, other, x, storage.WriteOptions{ExpectedSize: int64(len(data))}); err != nil || res.Checksums != w.Checksums {
		t.Fatalf("copy back: %+v %v", res, err)
	}
	if got := readAll(t, l, back); !bytes.Equal(got, data) {
		t.Fatal("copy back differs")
	}
	bad = storage.NewKey()
	if _, err := other.Copy(ctx, bad, l, src, storage.WriteOptions{ExpectedSize: storage.UnknownSize, ExpectedChecksum: sums(data[1:]).SHA256}); !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("copy across with a wrong checksum: %v", err)
	}
	assertGone(t, other, bad)
}

func testChecksum(t *testing.T, d Driver) {
	l := d.Open(t)
	data := randBytes(14, 2<<20+1)
	key := storage.NewKey()
	w := mustWrite(t, l, key, data)
	res, err := l.Checksum(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if res != w {
		t.Fatalf("Checksum = %+v, Write said %+v", res, w)
	}
	if err := res.Checksums.Verify(sums(data).SHA256); err != nil {
		t.Fatal(err)
	}
	if err := res.Checksums.Verify(sums(data[1:]).MD5); !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("Verify(wrong) = %v", err)
	}
}

// fetchSigned GETs a signed URL; relative URLs (file://) are served by the
// location's own handler.
func fetchSigned(t *testing.T, l *storage.Location, raw string) (int, []byte) {
	t.Helper()
	if strings.HasPrefix(raw, "/") {
		srv := httptest.NewServer(l.SignedURLHandler())
		defer srv.Close()
		raw = srv.URL + raw
	}
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func fetchSignedResp(t *testing.T, l *storage.Location, raw string) *http.Response {
	t.Helper()
	if strings.HasPrefix(raw, "/") {
		srv := httptest.NewServer(l.SignedURLHandler())
		defer srv.Close()
		raw = srv.URL + raw
	}
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func testSignedURL(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(15, 100000)
	key := storage.NewKey()
	mustWrite(t, l, key, data)
	u, err := l.SignedURL(ctx, key, time.Minute)
	if !d.SignedURLs {
		if !errors.Is(err, storage.ErrUnsupported) {
			t.Fatalf("SignedURL on a driver without them: %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if st, body := fetchSigned(t, l, u); st != 200 || !bytes.Equal(body, data) {
		t.Fatalf("signed URL: status %d, %d bytes", st, len(body))
	}
	// Tampering: another key, or a changed signature/expiry.
	other := storage.NewKey()
	mustWrite(t, l, other, []byte("secret"))
	pu, _ := url.Parse(u)
	var tampered []string
	q := pu.Query()
	switch {
	case q.Has("obj"): // fileblob
		q.Set("obj", other)
		tampered = append(tampered, withQuery(pu, q))
		q = pu.Query()
		q.Set("expiry", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
		tampered = append(tampered, withQuery(pu, q))
	case q.Has("X-Amz-Signature"):
		q.Set("X-Amz-Expires", "3600")
		tampered = append(tampered, withQuery(pu, q))
		p2 := *pu
		p2.Path = strings.Replace(p2.Path, key, other, 1)
		tampered = append(tampered, p2.String())
	}
	q = pu.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "signature") {
			s := q.Get(k)
			q.Set(k, flip(s))
		}
	}
	tampered = append(tampered, withQuery(pu, q))
	for _, tu := range tampered {
		if st, body := fetchSigned(t, l, tu); st != http.StatusForbidden {
			t.Fatalf("tampered URL %s: status %d (%q), want 403", tu, st, body)
		}
	}
	// Response overrides: the download keeps a name and a safe type, and
	// changing them breaks the signature.
	const disp = `attachment; filename="report.pdf"`
	ou, err := l.SignedURLWith(ctx, key, time.Minute, storage.SignedURLOptions{ContentDisposition: disp, ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	resp := fetchSignedResp(t, l, ou)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != disp || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("signed URL with overrides: %d %v", resp.StatusCode, resp.Header)
	}
	opu, _ := url.Parse(ou)
	oq := opu.Query()
	oq.Set("response-content-disposition", "inline")
	if st, _ := fetchSigned(t, l, withQuery(opu, oq)); st != http.StatusForbidden {
		t.Fatalf("tampered disposition: status %d, want 403", st)
	}
	// Expired.
	eu, err := l.SignedURL(ctx, key, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if st, _ := fetchSigned(t, l, eu); st != http.StatusForbidden {
		t.Fatalf("expired URL: status %d, want 403", st)
	}
	if _, err := l.SignedURL(ctx, key, 0); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("ttl 0: %v", err)
	}
}

func withQuery(u *url.URL, q url.Values) string {
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}

func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// Multipart parts are 5 MiB (S3's minimum for all but the last part).
const partSize = 5 << 20

func testMultipart(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(16, 2*partSize+123457)
	chunks := [][]byte{data[:partSize], data[partSize : 2*partSize], data[2*partSize:]}
	key := storage.NewKey()
	mp, err := l.NewMultipart(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// Part 3 first, then 1 and 2 concurrently, part 2 through a resumed handle.
	parts := make([]storage.Part, 3)
	p3, err := mp.UploadPart(ctx, 3, bytes.NewReader(chunks[2]), int64(len(chunks[2])))
	if err != nil {
		t.Fatal(err)
	}
	parts[2] = p3
	resumed, err := l.ResumeMultipart(mp.Key(), mp.UploadID())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, m := range []*storage.Multipart{mp, resumed} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], errs[i] = m.UploadPart(ctx, i+1, bytes.NewReader(chunks[i]), int64(len(chunks[i])))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		if p.Number != i+1 || p.Size != int64(len(chunks[i])) || p.Checksums != sums(chunks[i]) {
			t.Fatalf("part %d: %+v", i+1, p)
		}
	}
	if ok, _ := l.Exists(ctx, key); ok {
		t.Fatal("final object visible before Complete")
	}
	res, err := resumed.Complete(ctx, parts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != int64(len(data)) || res.Checksums != sums(data) {
		t.Fatalf("complete: %+v, want %+v", res, sums(data))
	}
	if got := readAll(t, l, key); !bytes.Equal(got, data) {
		t.Fatal("assembled object differs")
	}
	// Nothing but the final object remains.
	var left []string
	for o, err := range l.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, o.Key)
	}
	if !slices.Equal(left, []string{key}) {
		t.Fatalf("after Complete the location holds %v, want only %s", left, key)
	}
}

func testMultipartAbort(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	key := storage.NewKey()
	mp, err := l.NewMultipart(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(17, 1000)
	if _, err := mp.UploadPart(ctx, 1, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := mp.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	for o, err := range l.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("left after Abort: %s", o.Key)
	}
	if _, err := mp.Complete(ctx, []storage.Part{{Number: 1, Size: 1000, ETag: `"x"`}}); err == nil {
		t.Fatal("Complete after Abort succeeded")
	}
	if mp.Native() {
		// The server knows the upload is gone and says so (non-native
		// uploads are stateless: see Multipart).
		big := randBytes(21, 3<<20)
		if _, err := mp.UploadPart(ctx, 2, bytes.NewReader(big), int64(len(big))); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("UploadPart after Abort: %v, want ErrNotFound", err)
		}
	}
	if ok, _ := l.Exists(ctx, key); ok {
		t.Fatal("final object exists after Abort")
	}
}

func testMultipartErrors(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	key := storage.NewKey()
	mp, err := l.NewMultipart(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Abort(ctx)
	data := randBytes(18, 2000)
	for _, n := range []int{0, -1, storage.MaxParts + 1} {
		if _, err := mp.UploadPart(ctx, n, bytes.NewReader(data), 2000); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("part number %d: %v", n, err)
		}
	}
	for _, size := range []int64{1999, 2001} {
		if _, err := mp.UploadPart(ctx, 1, bytes.NewReader(data), size); !errors.Is(err, storage.ErrSizeMismatch) {
			t.Fatalf("part of %d bytes announced as %d: %v", len(data), size, err)
		}
	}
	p1, err := mp.UploadPart(ctx, 1, bytes.NewReader(data), 2000)
	if err != nil || p1.Number != 1 || p1.Size != 2000 || p1.Checksums != sums(data) {
		t.Fatalf("part 1: %+v %v", p1, err)
	}
	// A wrong Content-MD5 is refused and keeps the good part 1.
	wrong := md5.Sum(data[1:])
	if _, err := mp.UploadPartWith(ctx, 1, bytes.NewReader(randBytes(99, 2000)), storage.PartOptions{Size: 2000, ContentMD5: base64.StdEncoding.EncodeToString(wrong[:])}); !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("part with a wrong Content-MD5: %v", err)
	}
	right := md5.Sum(data)
	if p, err := mp.UploadPartWith(ctx, 1, bytes.NewReader(data), storage.PartOptions{Size: 2000, ContentMD5: hex.EncodeToString(right[:])}); err != nil || p.Checksums != sums(data) {
		t.Fatalf("part with the right Content-MD5: %+v %v", p, err)
	} else {
		p1 = p
	}
	// Out of order list, empty list, and a part that was never uploaded.
	if _, err := mp.Complete(ctx, []storage.Part{p1, p1}); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("repeated part: %v", err)
	}
	if _, err := mp.Complete(ctx, nil); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("no parts: %v", err)
	}
	ghost := storage.Part{Number: 2, Size: 10, ETag: p1.ETag}
	if _, err := mp.Complete(ctx, []storage.Part{p1, ghost}); err == nil {
		t.Fatal("Complete with a part never uploaded succeeded")
	}
	if ok, _ := l.Exists(ctx, key); ok {
		t.Fatal("final object exists after a failed Complete")
	}
	if res, err := mp.Complete(ctx, []storage.Part{p1}); err != nil || res.Checksums != sums(data) {
		t.Fatalf("complete after refused parts: %+v %v", res, err)
	}
	if got := readAll(t, l, key); !bytes.Equal(got, data) {
		t.Fatal("a refused part replaced the good one")
	}
	if _, err := l.ResumeMultipart("", "x"); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("resume with empty key: %v", err)
	}
}

// testReadWhileDeleted: a reader opened before a Delete either keeps
// returning the original bytes or fails with an error; it never returns
// other bytes. Which one happens is logged (per driver: see the package doc).
func testReadWhileDeleted(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	data := randBytes(19, 3<<20)
	key := storage.NewKey()
	mustWrite(t, l, key, data)
	r, err := l.NewReader(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	got := append(head, rest...)
	switch {
	case err != nil:
		t.Logf("%s: reader failed after Delete: %v (after %d bytes)", d.Name, err, len(got))
		if !bytes.Equal(got, data[:len(got)]) {
			t.Fatal("reader returned wrong bytes before failing")
		}
	case !bytes.Equal(got, data):
		t.Fatalf("reader returned %d wrong bytes after Delete", len(got))
	default:
		t.Logf("%s: reader kept working after Delete", d.Name)
	}
	if ok, _ := l.Exists(ctx, key); ok {
		t.Fatal("exists after Delete")
	}
}

func testUploads(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	var ups []*storage.Multipart
	for i := range 3 {
		key := fmt.Sprintf("up/%d/%s", i, storage.NewKey())
		mp, err := l.NewMultipart(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2; n++ {
			if _, err := mp.UploadPart(ctx, n, bytes.NewReader([]byte("part")), 4); err != nil {
				t.Fatal(err)
			}
		}
		ups = append(ups, mp)
	}
	// An object that is not an upload must not be listed.
	mustWrite(t, l, "up/plain", []byte("x"))
	list := func(prefix string) map[string]string {
		got := map[string]string{}
		for u, err := range l.Uploads(ctx, prefix) {
			if err != nil {
				t.Fatal(err)
			}
			if u.Initiated.Before(before) || u.Initiated.After(time.Now().Add(time.Minute)) {
				t.Fatalf("upload %+v: implausible Initiated", u)
			}
			got[u.Key] = u.UploadID
		}
		return got
	}
	got := list("up/")
	if len(got) != 3 {
		t.Fatalf("Uploads = %v, want 3", got)
	}
	for _, mp := range ups {
		if got[mp.Key()] != mp.UploadID() {
			t.Fatalf("upload %s/%s missing from %v", mp.Key(), mp.UploadID(), got)
		}
	}
	if got := list("up/1/"); len(got) != 1 {
		t.Fatalf("Uploads(up/1/) = %v", got)
	}
	// Abort one by id (as GC does), complete another: one remains.
	resumed, err := l.ResumeMultipart(ups[0].Key(), ups[0].UploadID())
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	p1, err := ups[1].UploadPart(ctx, 1, bytes.NewReader([]byte("only")), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ups[1].Complete(ctx, []storage.Part{p1}); err != nil {
		t.Fatal(err)
	}
	got = list("")
	if len(got) != 1 || got[ups[2].Key()] != ups[2].UploadID() {
		t.Fatalf("after abort and complete: %v, want only %s", got, ups[2].Key())
	}
}

// testAbortedLargeWrite: a write that fails after the driver has started
// shipping parts (S3: a multipart upload of 5 MiB parts) leaves neither the
// object nor an unfinished upload.
func testAbortedLargeWrite(t *testing.T, d Driver) {
	l := d.Open(t, storage.WithBufferSize(5<<20))
	ctx := context.Background()
	data := randBytes(20, 18<<20)
	m := md5.Sum(data[1:])
	for _, o := range []storage.WriteOptions{
		{MaxSize: 16 << 20, ExpectedSize: storage.UnknownSize},
		{ExpectedSize: storage.UnknownSize, ContentMD5: hex.EncodeToString(m[:])},
	} {
		key := storage.NewKey()
		if _, err := l.Write(ctx, key, bytes.NewReader(data), o); err == nil {
			t.Fatal("write succeeded")
		}
		assertGone(t, l, key)
		for u, err := range l.Uploads(ctx, "") {
			if err != nil {
				t.Fatal(err)
			}
			t.Fatalf("unfinished upload left: %+v", u)
		}
	}
}

// testConcurrentWrites: parallel writes (some failing their limit) each get
// their own bytes and checksums.
func testConcurrentWrites(t *testing.T, d Driver) {
	l := d.Open(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := randBytes(uint64(200+i), 1<<20+i*4099)
			key := storage.NewKey()
			limit := int64(0)
			if i%3 == 0 {
				limit = int64(len(data)) - 1
			}
			res, err := l.Write(ctx, key, bytes.NewReader(data), storage.WriteOptions{MaxSize: limit, ExpectedSize: storage.UnknownSize})
			switch {
			case limit > 0 && !errors.Is(err, storage.ErrTooLarge):
				errs <- fmt.Errorf("writer %d: %v, want ErrTooLarge", i, err)
			case limit == 0 && (err != nil || res.Checksums != sums(data)):
				errs <- fmt.Errorf("writer %d: %+v %v", i, res, err)
			case limit == 0:
				r, err := l.NewReader(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				defer r.Close()
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, data) {
					errs <- fmt.Errorf("writer %d: read back differs (%v)", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
