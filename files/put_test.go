package files_test

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
)

func md5b64(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }

func readAll(t *testing.T, s *files.Store, o *files.Object) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cutReader returns n bytes then fails, like a client that hangs up.
type cutReader struct {
	n   int
	err error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, c.err
	}
	k := min(len(p), c.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	c.n -= k
	return k, nil
}

func TestPut(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, err := s.CreateBucket(ctx, files.BucketOptions{MaxFileSize: 1000, Routes: map[string]string{"cold": "archive"}})
		if err != nil {
			t.Fatal(err)
		}
		data := []byte("hello, repository")
		o, err := s.Put(ctx, b.ID, "docs/a.txt", bytes.NewReader(data), files.PutOptions{Size: int64(len(data)), ContentMD5: md5b64(data),
			Tags: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(data)
		sh := sha256.Sum256(data)
		if o.File.MD5 != "md5:"+hex.EncodeToString(sum[:]) || o.File.SHA256 != "sha256:"+hex.EncodeToString(sh[:]) || o.File.Size != int64(len(data)) ||
			o.File.Location != "local" || o.Tags["k"] != "v" {
			t.Fatalf("object = %+v file = %+v", o, o.File)
		}
		if got := readAll(t, s, o); !bytes.Equal(got, data) {
			t.Fatalf("read %q", got)
		}
		got, err := s.Object(ctx, b.ID, "docs/a.txt", "")
		if err != nil || got.Tags["k"] != "v" || got.File.ID != o.File.ID {
			t.Fatalf("Object = %+v %v", got, err)
		}
		// Storage class routing.
		cold, err := s.Put(ctx, b.ID, "cold.bin", strings.NewReader("brr"), files.PutOptions{StorageClass: "cold"})
		if err != nil || cold.File.Location != "archive" || cold.File.StorageClass != "cold" {
			t.Fatalf("routed = %+v %v", cold.File, err)
		}
		keysBefore := len(env.Keys(t, "local"))
		// Content-MD5 mismatch, size mismatch, too large (announced and
		// streamed), bad key: errors and nothing left behind.
		cases := []struct {
			name string
			key  string
			r    io.Reader
			o    files.PutOptions
			want error
		}{
			{"md5", "x", bytes.NewReader(data), files.PutOptions{ContentMD5: md5b64([]byte("other"))}, files.ErrChecksumMismatch},
			{"size", "x", bytes.NewReader(data), files.PutOptions{Size: 5}, files.ErrSizeMismatch},
			{"announced", "x", bytes.NewReader(data), files.PutOptions{Size: 1001}, files.ErrFileTooLarge},
			{"streamed", "x", io.LimitReader(zeros{}, 5000), files.PutOptions{}, files.ErrFileTooLarge},
			{"key", "a/../b", bytes.NewReader(data), files.PutOptions{}, files.ErrInvalidKey},
			{"cut", "x", &cutReader{n: 300, err: io.ErrUnexpectedEOF}, files.PutOptions{Size: 600}, io.ErrUnexpectedEOF},
		}
		for _, c := range cases {
			_, err := s.Put(ctx, b.ID, c.key, c.r, c.o)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			}
			if c.name == "streamed" && !errors.Is(err, storage.ErrTooLarge) {
				t.Errorf("streamed: %v does not match storage.ErrTooLarge", err)
			}
		}
		if _, err := s.Object(ctx, b.ID, "x", ""); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("failed uploads left an object: %v", err)
		}
		if n := len(env.Keys(t, "local")); n != keysBefore {
			t.Fatalf("failed uploads left bytes: %d keys, had %d: %v", n, keysBefore, env.Keys(t, "local"))
		}
		if b, _ = s.Bucket(ctx, b.ID); b.Size != int64(len(data))+3 {
			t.Fatalf("bucket size %d", b.Size)
		}
		// Locked and deleted buckets.
		if err := s.LockBucket(ctx, b.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, b.ID, "y", strings.NewReader("y"), files.PutOptions{}); !errors.Is(err, files.ErrLocked) {
			t.Fatalf("locked: %v", err)
		}
		if _, err := s.Put(ctx, "00000000-0000-0000-0000-000000000000", "y", strings.NewReader("y"), files.PutOptions{}); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("missing bucket: %v", err)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestConcurrentUploadsQuota: 20 concurrent uploads of 1000 bytes into a
// bucket with a quota of 10000: exactly 10 succeed, the rest fail with
// ErrQuotaExceeded, the size is exact and the losers' bytes are gone.
func TestConcurrentUploadsQuota(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, err := s.CreateBucket(ctx, files.BucketOptions{Quota: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, over := 0, 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Put(ctx, b.ID, fmt.Sprintf("f%02d", i), io.LimitReader(zeros{}, 1000), files.PutOptions{Size: 1000})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, files.ErrQuotaExceeded) && errors.Is(err, files.ErrTooLarge):
					over++
				default:
					t.Errorf("put %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		b, _ = s.Bucket(ctx, b.ID)
		if ok != 10 || over != 10 || b.Size != 10_000 {
			t.Fatalf("ok=%d over=%d size=%d", ok, over, b.Size)
		}
		if n := len(env.Keys(t, "local")); n != 10 {
			t.Fatalf("%d stored objects, want 10", n)
		}
		// Full bucket: fails before streaming.
		if _, err := s.Put(ctx, b.ID, "more", strings.NewReader("x"), files.PutOptions{}); !errors.Is(err, files.ErrQuotaExceeded) {
			t.Fatalf("full bucket: %v", err)
		}
	})
}

// TestCutUploadGC: an upload whose stream breaks leaves no object; bytes of
// an upload that crashed before committing are removed by GC, committed
// ones are kept.
func TestCutUploadGC(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		if _, err := s.Put(ctx, b.ID, "cut", &cutReader{n: 1 << 20, err: io.ErrUnexpectedEOF}, files.PutOptions{}); err == nil {
			t.Fatal("cut upload succeeded")
		}
		if _, err := s.Object(ctx, b.ID, "cut", ""); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("cut upload visible: %v", err)
		}
		kept, err := s.Put(ctx, b.ID, "kept", strings.NewReader("keep me"), files.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// A process that died between writing bytes and committing.
		loc, _ := env.Locs.Get("local")
		if _, err := loc.Write(ctx, "files/de/ad/crashed", strings.NewReader("lost"), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
			t.Fatal(err)
		}
		// Young bytes survive (they may belong to an upload in flight).
		rep, err := s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Hour})
		if err != nil || rep.StrayBytes != 0 {
			t.Fatalf("gc young: %+v %v", rep, err)
		}
		time.Sleep(20 * time.Millisecond)
		rep, err = s.CollectGarbage(ctx, files.GCOptions{BytesGrace: 10 * time.Millisecond})
		if err != nil || rep.StrayBytes != 1 {
			t.Fatalf("gc: %+v %v", rep, err)
		}
		keys := env.Keys(t, "local")
		if len(keys) != 1 || keys[0] != kept.File.StorageKey {
			t.Fatalf("keys after gc: %v", keys)
		}
		if got := readAll(t, s, kept); string(got) != "keep me" {
			t.Fatalf("kept = %q", got)
		}
	})
}
