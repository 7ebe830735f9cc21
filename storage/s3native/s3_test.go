package s3native_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/s3native"
	"github.com/repokit/repokit/storage/storagetest"
)

// TestS3LargeCopy: server-side copies over CopyObject's 5 GiB limit go
// through UploadPartCopy (threshold lowered to 1 MiB, 5 MiB parts).
func TestS3LargeCopy(t *testing.T) {
	l := storagetest.OpenS3(t)
	defer s3native.SetCopyLimits(1<<20, 5<<20)()
	ctx := context.Background()
	data := make([]byte, 12<<20+5)
	_, _ = rand.Read(data)
	src := storage.NewKey() + "/with space+plus"
	w, err := l.Write(ctx, src, bytes.NewReader(data), storage.WriteOptions{ExpectedSize: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	dst := storage.NewKey()
	res, err := l.Copy(ctx, dst, l, src, storage.WriteOptions{ExpectedSize: int64(len(data)), ExpectedChecksum: w.Checksums.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	if res != w {
		t.Fatalf("copy %+v, source %+v", res, w)
	}
	var uploads int
	for _, err := range l.Uploads(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		uploads++
	}
	if uploads != 0 {
		t.Fatalf("%d multipart uploads left after the copy", uploads)
	}
}
