package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/repokit/repokit/storage"
)

func ExampleLocation_Write() {
	ctx := context.Background()
	locs, err := storage.Open(ctx, "mem://")
	if err != nil {
		panic(err)
	}
	defer locs.Close()
	loc := locs.Default()

	key := storage.NewKey()
	res, err := loc.Write(ctx, key, strings.NewReader("hello"), storage.WriteOptions{
		MaxSize:      1 << 20,
		ExpectedSize: 5,
		ContentMD5:   "XUFAKrxLKna5cZ2REBfFkg==", // the client's Content-MD5 header
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Size, res.Checksums.MD5)

	// Over the limit: nothing is left behind.
	_, err = loc.Write(ctx, storage.NewKey(), strings.NewReader("too long"), storage.WriteOptions{MaxSize: 3, ExpectedSize: storage.UnknownSize})
	fmt.Println(errors.Is(err, storage.ErrTooLarge))

	r, err := loc.NewRangeReader(ctx, key, 1, 3)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	fmt.Println(string(b))
	// Output:
	// 5 md5:5d41402abc4b2a76b9719d911017c592
	// true
	// ell
}

func ExampleMultipart() {
	ctx := context.Background()
	loc, err := storage.OpenLocation(ctx, "scratch", "mem://")
	if err != nil {
		panic(err)
	}
	defer loc.Close()
	mp, err := loc.NewMultipart(ctx, storage.NewKey())
	if err != nil {
		panic(err)
	}
	// Parts may arrive in any order (and concurrently).
	p2, _ := mp.UploadPart(ctx, 2, strings.NewReader("world"), 5)
	p1, _ := mp.UploadPart(ctx, 1, strings.NewReader("hello "), 6)
	res, err := mp.Complete(ctx, []storage.Part{p1, p2})
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	r, _ := loc.NewReader(ctx, mp.Key())
	defer r.Close()
	_, _ = io.Copy(&buf, r)
	fmt.Println(res.Size, buf.String())
	// Output: 11 hello world
}
