package files_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
)

// TestMemLocation runs the byte paths (put, ranged read, multipart, move
// to file://) with mem:// as the default location.
func TestMemLocation(t *testing.T) {
	ctx := context.Background()
	env := filestest.New(t, "sqlite", filestest.Options{DefaultLocation: "mem"})
	s := env.Store
	b, _ := s.CreateBucket(ctx, files.BucketOptions{})
	data := randomBytes(5000)
	o, err := s.Put(ctx, b.ID, "a.bin", bytes.NewReader(data), files.PutOptions{Size: 5000, ContentMD5: md5b64(data)})
	if err != nil || o.File.Location != "mem" {
		t.Fatalf("put %+v %v", o, err)
	}
	r, err := s.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(4000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(tail, data[4000:]) {
		t.Fatal("ranged read differs")
	}
	u, err := s.InitUpload(ctx, b.ID, "m.bin", 5000, 2000, files.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 1, 2} {
		p := data[(n-1)*2000 : min(n*2000, 5000)]
		if _, err := s.UploadPart(ctx, b.ID, "m.bin", u.ID, n, bytes.NewReader(p), int64(len(p)), md5b64(p)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.CompleteUpload(ctx, b.ID, "m.bin", u.ID)
	if err != nil || m.File.MD5 != o.File.MD5 {
		t.Fatalf("complete %+v %v", m, err)
	}
	f, err := s.MoveFile(ctx, m.File.ID, "local", files.MoveOptions{})
	if err != nil || f.Location != "local" {
		t.Fatalf("move %+v %v", f, err)
	}
	if m, err = s.Object(ctx, b.ID, "m.bin", ""); err != nil || m.File.Location != "local" {
		t.Fatalf("after move %+v %v", m, err)
	}
	if got := readAll(t, s, m); !bytes.Equal(got, data) {
		t.Fatal("moved content differs")
	}
	if keys := env.Keys(t, "mem"); len(keys) != 1 || keys[0] != o.File.StorageKey {
		t.Fatalf("mem keys %v", keys)
	}
}
