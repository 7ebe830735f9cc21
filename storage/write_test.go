package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/repokit/repokit/storage"
)

// TestWriteChecksumsSelection: WriteOptions.Checksums computes only the
// checksums asked for (all of them by default), and never fewer than
// ContentMD5 and ExpectedChecksum need to be verified.
func TestWriteChecksumsSelection(t *testing.T) {
	ctx := context.Background()
	l, err := storage.OpenLocation(ctx, "f", fileURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := bytes.Repeat([]byte("checksum selection "), 200000) // > 1 pump chunk
	md := fmt.Sprintf("md5:%x", md5.Sum(data))
	sh := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	sum := md5.Sum(data)
	contentMD5 := base64.StdEncoding.EncodeToString(sum[:])
	badMD5 := base64.StdEncoding.EncodeToString(make([]byte, md5.Size))
	badSHA := "sha256:" + fmt.Sprintf("%064x", 0)

	for _, tc := range []struct {
		name    string
		opts    storage.WriteOptions
		md, sh  string // expected checksums ("": not computed)
		wantErr error
	}{
		{name: "default-all", md: md, sh: sh},
		{name: "all", opts: storage.WriteOptions{Checksums: storage.AllAlgorithms}, md: md, sh: sh},
		{name: "md5-only", opts: storage.WriteOptions{Checksums: storage.AlgoMD5}, md: md},
		{name: "sha256-only", opts: storage.WriteOptions{Checksums: storage.AlgoSHA256}, sh: sh},
		{name: "sha256-with-content-md5", opts: storage.WriteOptions{Checksums: storage.AlgoSHA256, ContentMD5: contentMD5}, md: md, sh: sh},
		{name: "sha256-with-bad-content-md5", opts: storage.WriteOptions{Checksums: storage.AlgoSHA256, ContentMD5: badMD5}, wantErr: storage.ErrChecksumMismatch},
		{name: "md5-with-expected-sha256", opts: storage.WriteOptions{Checksums: storage.AlgoMD5, ExpectedChecksum: sh}, md: md, sh: sh},
		{name: "md5-with-bad-expected-sha256", opts: storage.WriteOptions{Checksums: storage.AlgoMD5, ExpectedChecksum: badSHA}, wantErr: storage.ErrChecksumMismatch},
		{name: "unknown-algorithm", opts: storage.WriteOptions{Checksums: 1 << 7}, wantErr: storage.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := storage.NewKey()
			tc.opts.ExpectedSize = int64(len(data))
			res, err := l.Write(ctx, key, bytes.NewReader(data), tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Write = %v, want %v", err, tc.wantErr)
				}
				if ok, err := l.Exists(ctx, key); err != nil || ok {
					t.Fatalf("failed write left an object: %v, %v", ok, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Size != int64(len(data)) || res.Checksums.MD5 != tc.md || res.Checksums.SHA256 != tc.sh {
				t.Fatalf("Write = %d %+v, want %d {MD5:%s SHA256:%s}", res.Size, res.Checksums, len(data), tc.md, tc.sh)
			}
			if tc.sh == "" {
				if err := res.Checksums.Verify(sh); !errors.Is(err, storage.ErrInvalid) {
					t.Fatalf("Verify of an uncomputed sha256 = %v, want ErrInvalid", err)
				}
			}
		})
	}
}
