package files_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestMultipart(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{Quota: 1 << 20})
		data := randomBytes(10_000)
		const ps = 3000 // 4 parts: 3000, 3000, 3000, 1000
		for _, bad := range []struct{ size, part int64 }{{0, 10}, {100, 0}, {2 << 20, 1 << 20}, {100_000, 5}} {
			if _, err := s.InitUpload(ctx, b.ID, "big.bin", bad.size, bad.part, files.UploadOptions{}); !errors.Is(err, files.ErrInvalid) && !errors.Is(err, files.ErrTooLarge) {
				t.Errorf("init %v: %v", bad, err)
			}
		}
		u, err := s.InitUpload(ctx, b.ID, "big.bin", int64(len(data)), ps, files.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if u.PartCount() != 4 || u.PartSizeOf(4) != 1000 {
			t.Fatalf("upload %+v", u)
		}
		part := func(n int) []byte { return data[(n-1)*ps : min(n*ps, len(data))] }
		// Wrong size, bad Content-MD5, bad number.
		if _, err := s.UploadPart(ctx, b.ID, "big.bin", u.ID, 1, bytes.NewReader(part(1)[:10]), 10, ""); !errors.Is(err, files.ErrInvalid) {
			t.Fatalf("short part: %v", err)
		}
		if _, err := s.UploadPart(ctx, b.ID, "big.bin", u.ID, 2, bytes.NewReader(part(2)), 0, md5b64([]byte("nope"))); !errors.Is(err, files.ErrChecksumMismatch) {
			t.Fatalf("bad md5 part: %v", err)
		}
		if _, err := s.UploadPart(ctx, b.ID, "big.bin", u.ID, 5, bytes.NewReader(part(1)), 0, ""); !errors.Is(err, files.ErrInvalid) {
			t.Fatalf("part 5: %v", err)
		}
		// Parts 4, 2, 3 concurrently; completing without part 1 fails.
		var wg sync.WaitGroup
		for _, n := range []int{4, 2, 3} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.UploadPart(ctx, b.ID, "big.bin", u.ID, n, bytes.NewReader(part(n)), int64(len(part(n))), md5b64(part(n))); err != nil {
					t.Errorf("part %d: %v", n, err)
				}
			}()
		}
		wg.Wait()
		if _, err := s.CompleteUpload(ctx, b.ID, "big.bin", u.ID); !errors.Is(err, files.ErrInvalid) {
			t.Fatalf("complete with a missing part: %v", err)
		}
		if _, err := s.UploadPart(ctx, b.ID, "big.bin", u.ID, 1, bytes.NewReader(part(1)), 0, ""); err != nil {
			t.Fatal(err)
		}
		parts, err := s.ListParts(ctx, b.ID, "big.bin", u.ID)
		if err != nil || len(parts) != 4 || parts[0].Number != 1 || parts[3].Size != 1000 {
			t.Fatalf("parts = %+v %v", parts, err)
		}
		ups, err := s.ListUploads(ctx, b.ID, files.UploadListOptions{})
		if err != nil || len(ups.Uploads) != 1 || ups.Uploads[0].ID != u.ID || ups.Next != "" {
			t.Fatalf("uploads = %+v %v", ups, err)
		}
		o, err := s.CompleteUpload(ctx, b.ID, "big.bin", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, o); !bytes.Equal(got, data) {
			t.Fatalf("assembled %d bytes, differ", len(got))
		}
		if _, err := s.CompleteUpload(ctx, b.ID, "big.bin", u.ID); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("complete twice: %v", err)
		}
		if b, _ = s.Bucket(ctx, b.ID); b.Size != int64(len(data)) {
			t.Fatalf("bucket size %d", b.Size)
		}
		// Only the final object remains in storage (parts deleted).
		if keys := env.Keys(t, "local"); len(keys) != 1 || keys[0] != o.File.StorageKey {
			t.Fatalf("keys = %v", keys)
		}
		// Abort removes parts and the upload.
		u2, err := s.InitUpload(ctx, b.ID, "aborted", 10, 5, files.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UploadPart(ctx, b.ID, "aborted", u2.ID, 1, bytes.NewReader([]byte("12345")), 5, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.AbortUpload(ctx, b.ID, "aborted", u2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ListParts(ctx, b.ID, "aborted", u2.ID); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("parts of aborted: %v", err)
		}
		if keys := env.Keys(t, "local"); len(keys) != 1 {
			t.Fatalf("keys after abort = %v", keys)
		}
		// Quota re-checked at completion.
		small, _ := s.CreateBucket(ctx, files.BucketOptions{Quota: 10})
		u3, err := s.InitUpload(ctx, small.ID, "q", 10, 5, files.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2; n++ {
			if _, err := s.UploadPart(ctx, small.ID, "q", u3.ID, n, bytes.NewReader([]byte("12345")), 5, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Put(ctx, small.ID, "filler", bytes.NewReader([]byte("1")), files.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CompleteUpload(ctx, small.ID, "q", u3.ID); !errors.Is(err, files.ErrQuotaExceeded) {
			t.Fatalf("complete over quota: %v", err)
		}
	})
}

// TestGCUploads: abandoned uploads (unfinished ones included) go after the
// TTL, with their parts; fresh ones stay.
func TestGCUploads(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		// The store's clock runs an hour ahead once the old upload is
		// done: ages come from the clock, not from how fast the machine
		// runs the test.
		var ahead atomic.Int64
		clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		env := filestest.New(t, string(d), filestest.Options{StoreOptions: []files.Option{files.WithClock(clock)}})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		old, err := s.InitUpload(ctx, b.ID, "old", 10, 5, files.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UploadPart(ctx, b.ID, "old", old.ID, 1, bytes.NewReader([]byte("12345")), 5, ""); err != nil {
			t.Fatal(err)
		}
		ahead.Store(int64(time.Hour))
		fresh, err := s.InitUpload(ctx, b.ID, "fresh", 10, 5, files.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UploadPart(ctx, b.ID, "fresh", fresh.ID, 2, bytes.NewReader([]byte("12345")), 5, ""); err != nil {
			t.Fatal(err)
		}
		rep, err := s.CollectGarbage(ctx, files.GCOptions{UploadTTL: 30 * time.Minute, BytesGrace: time.Hour})
		if err != nil || rep.Uploads != 1 {
			t.Fatalf("gc = %+v %v", rep, err)
		}
		if _, err := s.Upload(ctx, b.ID, "old", old.ID); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("old upload survived: %v", err)
		}
		if _, err := s.Upload(ctx, b.ID, "fresh", fresh.ID); err != nil {
			t.Fatalf("fresh upload collected: %v", err)
		}
		keys := env.Keys(t, "local")
		if len(keys) != 1 {
			t.Fatalf("keys = %v", keys)
		}
		// Parts of a live upload are not stray bytes (they are older than
		// the grace by the clock).
		rep, err = s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Minute})
		if err != nil || rep.StrayBytes != 0 {
			t.Fatalf("gc live parts: %+v %v", rep, err)
		}
	})
}

// TestListUploadsPages: uploads come in key order, a page at a time, with
// a prefix filter; a bad cursor is ErrInvalid.
func TestListUploadsPages(t *testing.T) {
	ctx := context.Background()
	env := filestest.New(t, "sqlite", filestest.Options{})
	s := env.Store
	b, _ := s.CreateBucket(ctx, files.BucketOptions{})
	var want []string
	for _, k := range []string{"b/2", "a/1", "b/1", "a/1", "c", "b/3"} {
		if _, err := s.InitUpload(ctx, b.ID, k, 10, 5, files.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want = []string{"a/1", "a/1", "b/1", "b/2", "b/3", "c"}
	var got []string
	pages := 0
	for cursor := ""; ; {
		p, err := s.ListUploads(ctx, b.ID, files.UploadListOptions{Cursor: cursor, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range p.Uploads {
			got = append(got, u.Key)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || pages != 2 {
		t.Fatalf("%d pages: %v, want %v", pages, got, want)
	}
	p, err := s.ListUploads(ctx, b.ID, files.UploadListOptions{Prefix: "b/", Limit: 2})
	if err != nil || len(p.Uploads) != 2 || p.Uploads[0].Key != "b/1" || p.Next == "" {
		t.Fatalf("prefix page: %+v %v", p, err)
	}
	if _, err := s.ListUploads(ctx, b.ID, files.UploadListOptions{Cursor: "!!"}); !errors.Is(err, files.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}
