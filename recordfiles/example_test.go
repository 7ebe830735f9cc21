package recordfiles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/recordfiles"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/storage"
)

// A record and its bucket created together, a file uploaded through the
// Files REST API mounted under the record's route, and the bucket following
// the record into deletion.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "recordfiles-example-")
	defer os.RemoveAll(dir)
	recs, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "repo.db"))
	if err != nil {
		panic(err)
	}
	defer recs.Close()
	locs, err := storage.Open(ctx, "file://"+filepath.Join(dir, "data")+"?create_dir=1")
	if err != nil {
		panic(err)
	}
	defer locs.Close()
	fs, err := files.New(ctx, recs.DB(), locs)
	if err != nil {
		panic(err)
	}
	rf, err := recordfiles.New(ctx, recs, fs)
	if err != nil {
		panic(err)
	}

	rec, _, err := rf.Create(ctx, json.RawMessage(`{"title":"Data set"}`))
	if err != nil {
		panic(err)
	}

	h := fileshttp.New(fs, fileshttp.WithBucketResolver(rf.BucketResolver("id")))
	mux := http.NewServeMux()
	mux.Handle("/api/records/{id}/files/{key...}", h)
	mux.Handle("/api/records/{id}/files", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/api/records/" + rec.ID.String() + "/files/table.csv"

	req, _ := http.NewRequest("PUT", url, strings.NewReader("a,b\n1,2\n"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	resp, _ = http.Get(url)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("GET %d %q\n", resp.StatusCode, body)

	_, _ = recs.Delete(ctx, rec.ID) // the bucket is soft-deleted with the record
	resp, _ = http.Get(url)
	resp.Body.Close()
	fmt.Println("after delete:", resp.StatusCode)
	// Output:
	// GET 200 "a,b\n1,2\n"
	// after delete: 404
}
