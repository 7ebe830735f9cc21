package files_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/storage"
)

// Example wires a store over SQLite and a local directory, uploads a file,
// reads it back and mounts the REST API.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "files-example")
	defer os.RemoveAll(dir)

	locs, err := storage.Open(ctx, "file://"+filepath.Join(dir, "data")+"?create_dir=1")
	if err != nil {
		panic(err)
	}
	defer locs.Close()
	store, err := files.Open(ctx, "sqlite://"+filepath.Join(dir, "files.db"), locs)
	if err != nil {
		panic(err)
	}
	defer store.Close()

	bucket, _ := store.CreateBucket(ctx, files.BucketOptions{Quota: 1 << 30, MaxFileSize: 100 << 20})
	obj, err := store.Put(ctx, bucket.ID, "docs/readme.txt", strings.NewReader("hello"), files.PutOptions{Size: 5})
	if err != nil {
		panic(err)
	}
	r, _ := store.Open(ctx, obj)
	body, _ := io.ReadAll(r)
	r.Close()
	fmt.Println(string(body), obj.File.MD5, obj.Mimetype)

	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files", fileshttp.New(store)))
	mux.Handle("/_storage/", http.StripPrefix("/_storage", locs.SignedURLHandler()))
	// http.ListenAndServe(":8080", mux)

	// Output: hello md5:5d41402abc4b2a76b9719d911017c592 text/plain; charset=utf-8
}
