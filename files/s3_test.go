package files_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/storagetest"
)

// TestS3Location runs the byte paths on a real S3 server (versitygw in CI;
// skipped without REPOKIT_TEST_S3_URL): put with Content-MD5, native
// multipart (5 MiB parts, uploaded concurrently), fixity check, presigned
// URL, GC of stray bytes.
func TestS3Location(t *testing.T) {
	ctx := context.Background()
	loc := storagetest.OpenS3(t)
	locs, err := storage.New(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := files.New(ctx, sqldbtest.Fresh(t, sqldb.SQLite), locs)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.CreateBucket(ctx, files.BucketOptions{})
	data := randomBytes(6<<20 + 123)
	small := data[:1000]
	o, err := s.Put(ctx, b.ID, "small.bin", bytes.NewReader(small), files.PutOptions{Size: 1000, ContentMD5: md5b64(small)})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, o); !bytes.Equal(got, small) {
		t.Fatal("small differs")
	}
	if _, err := s.Put(ctx, b.ID, "bad.bin", bytes.NewReader(small), files.PutOptions{ContentMD5: md5b64([]byte("x"))}); err == nil {
		t.Fatal("bad Content-MD5 accepted on S3")
	}
	if _, err := s.InitUpload(ctx, b.ID, "m.bin", int64(len(data)), 1<<20, files.UploadOptions{}); err == nil {
		t.Fatal("S3 accepted 1 MiB parts")
	}
	u, err := s.InitUpload(ctx, b.ID, "m.bin", int64(len(data)), 5<<20, files.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for n := 1; n <= 2; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := data[(n-1)*(5<<20) : min(n*(5<<20), len(data))]
			if _, err := s.UploadPart(ctx, b.ID, "m.bin", u.ID, n, bytes.NewReader(p), int64(len(p)), md5b64(p)); err != nil {
				t.Errorf("part %d: %v", n, err)
			}
		}()
	}
	wg.Wait()
	m, err := s.CompleteUpload(ctx, b.ID, "m.bin", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, m); !bytes.Equal(got, data) {
		t.Fatal("multipart content differs")
	}
	if res, err := s.Verify(ctx, m.File.ID); err != nil || res != files.CheckOK {
		t.Fatalf("verify %v %v", res, err)
	}
	url, err := s.SignedURL(ctx, o.File, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(body, small) {
		t.Fatalf("presigned GET: %d", res.StatusCode)
	}
	if _, err := loc.Write(ctx, "files/00/00/stray", strings.NewReader("stray"), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
		t.Fatal(err)
	}
	// A native upload no row knows about (crash after starting it).
	mp, err := loc.NewMultipart(ctx, "files/00/00/crashed-upload")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mp.UploadPart(ctx, 1, bytes.NewReader(small), int64(len(small))); err != nil {
		t.Fatal(err)
	}
	// An upload in progress in a bucket that gets purged.
	b2, _ := s.CreateBucket(ctx, files.BucketOptions{})
	u2, err := s.InitUpload(ctx, b2.ID, "p.bin", 6<<20, 5<<20, files.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadPart(ctx, b2.ID, "p.bin", u2.ID, 2, bytes.NewReader(data[:1<<20]), 1<<20, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeBucket(ctx, b2.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // S3 mod times have 1 s resolution
	rep, err := s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Millisecond})
	if err != nil || rep.StrayBytes != 1 || rep.Uploads != 1 {
		t.Fatalf("gc %+v %v", rep, err)
	}
	for up, err := range loc.Uploads(ctx, "") {
		t.Fatalf("native upload left: %+v %v", up, err)
	}
	if got := readAll(t, s, m); !bytes.Equal(got, data) {
		t.Fatal("gc touched a live file")
	}
}
