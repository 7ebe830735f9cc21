package recordfiles_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/recordfiles"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/storage"
)

type env struct {
	db   *sqlx.DB
	recs *records.Store
	fs   *files.Store
	rf   *recordfiles.Store
}

func newEnv(t *testing.T, d sqldb.Dialect) *env {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Fresh(t, d)
	locs, err := storage.Open(ctx, "file://"+t.TempDir()+"?create_dir=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locs.Close() })
	recs, err := records.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := files.New(ctx, db, locs)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := recordfiles.New(ctx, recs, fs, recordfiles.WithBucketOptions(files.BucketOptions{MaxFileSize: 1 << 20}))
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, recs: recs, fs: fs, rf: rf}
}

func count(t *testing.T, db *sqlx.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLifecycle(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		e := newEnv(t, d)

		rec, b, err := e.rf.Create(ctx, json.RawMessage(`{"title":"with files"}`))
		if err != nil {
			t.Fatal(err)
		}
		if b.MaxFileSize != 1<<20 {
			t.Fatalf("bucket options not applied: %+v", b)
		}
		got, err := e.rf.Bucket(ctx, rec.ID)
		if err != nil || got.ID != b.ID {
			t.Fatalf("Bucket = %v, %v; want %s", got, err, b.ID)
		}
		if _, err := e.rf.CreateBucket(ctx, rec.ID); !errors.Is(err, records.ErrConflict) {
			t.Fatalf("second bucket: err = %v, want ErrConflict", err)
		}
		if _, err := e.rf.CreateBucket(ctx, uuid.New()); !errors.Is(err, records.ErrNotFound) {
			t.Fatalf("bucket for a missing record: err = %v, want ErrNotFound", err)
		}
		if _, err := e.rf.Bucket(ctx, uuid.New()); !errors.Is(err, recordfiles.ErrNotFound) || !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("Bucket of unknown record: %v", err)
		}
		if _, err := e.fs.Put(ctx, b.ID, "data.txt", strings.NewReader("hello"), files.PutOptions{Size: 5}); err != nil {
			t.Fatal(err)
		}

		// One transaction: a rollback leaves neither record nor bucket.
		nRecs, nBuckets := count(t, e.db, "records_metadata"), count(t, e.db, "files_buckets")
		_ = sqltx.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
			if _, _, err := e.rf.WithTx(tx).Create(ctx, json.RawMessage(`{"title":"rolled back"}`)); err != nil {
				t.Fatal(err)
			}
			return errors.New("roll back")
		})
		if count(t, e.db, "records_metadata") != nRecs || count(t, e.db, "files_buckets") != nBuckets || count(t, e.db, "recordfiles_buckets") != 1 {
			t.Fatal("a rolled-back Create left rows")
		}
		// An invalid document: no bucket either.
		if _, _, err := e.rf.Create(ctx, json.RawMessage(`[]`)); !errors.Is(err, records.ErrInvalid) {
			t.Fatalf("invalid doc: %v", err)
		}
		if count(t, e.db, "files_buckets") != nBuckets {
			t.Fatal("a refused Create left a bucket")
		}

		// Cascade: delete, undelete, purge.
		if _, err := e.recs.Delete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := e.fs.Bucket(ctx, b.ID); err != nil || !got.Deleted {
			t.Fatalf("after record delete: bucket %+v, %v; want deleted", got, err)
		}
		if _, err := e.recs.Undelete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := e.fs.Bucket(ctx, b.ID); err != nil || got.Deleted {
			t.Fatalf("after record undelete: bucket %+v, %v; want live", got, err)
		}
		if _, err := e.fs.Object(ctx, b.ID, "data.txt", ""); err != nil {
			t.Fatalf("object lost by delete/undelete: %v", err)
		}
		if err := e.recs.Purge(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.fs.Bucket(ctx, b.ID); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("after purge: bucket err = %v, want ErrNotFound", err)
		}
		if count(t, e.db, "recordfiles_buckets") != 0 {
			t.Fatal("purge left the link row")
		}
		// A record without files is deleted and purged as before.
		plain, err := e.recs.Create(ctx, json.RawMessage(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.recs.Delete(ctx, plain.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.recs.Purge(ctx, plain.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHandlerUnderRecordRoute(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqldb.SQLite)
	h := fileshttp.New(e.fs, fileshttp.WithBucketResolver(e.rf.BucketResolver("id")))
	mux := http.NewServeMux()
	mux.Handle("/api/records/{id}/files/{key...}", h)
	mux.Handle("/api/records/{id}/files", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	rec, _, err := e.rf.Create(ctx, json.RawMessage(`{"title":"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/api/records/" + rec.ID.String() + "/files"
	do := func(method, url, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if body != "" {
			req.ContentLength = int64(len(body))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("PUT", base+"/dir/hello%20world.txt", "hello"); code != 200 && code != 201 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if code, body := do("GET", base+"/dir/hello%20world.txt", ""); code != 200 || body != "hello" {
		t.Fatalf("GET object: %d %q", code, body)
	}
	for _, u := range []string{base, base + "/"} {
		if code, body := do("GET", u, ""); code != 200 || !strings.Contains(body, "dir/hello world.txt") {
			t.Fatalf("GET %s (list): %d %s", u, code, body)
		}
	}
	if code, _ := do("GET", srv.URL+"/api/records/"+uuid.NewString()+"/files/x", ""); code != 404 {
		t.Fatalf("unknown record: %d, want 404", code)
	}
	if code, _ := do("GET", srv.URL+"/api/records/not-a-uuid/files", ""); code != 404 {
		t.Fatalf("bad record id: %d, want 404", code)
	}
	if code, _ := do("GET", base+"/a/../b", ""); code == 200 {
		t.Fatal("unclean key served")
	}
	if _, err := e.recs.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := do("GET", base+"/dir/hello%20world.txt", ""); code != 404 {
		t.Fatalf("file of a deleted record: %d, want 404", code)
	}
}

func TestHandlerAccessPolicy(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqldb.SQLite)
	policy := access.Funcs{AllowFunc: func(_ context.Context, who access.Identity, a access.Action, res access.Resource) bool {
		var doc struct{ Owner string }
		_ = json.Unmarshal(res.Doc, &doc)
		return who.ID != "" && who.ID == doc.Owner
	}}
	h := fileshttp.New(e.fs,
		fileshttp.WithBucketResolver(e.rf.BucketResolver("id")),
		fileshttp.WithAccessPolicy(policy, func(r *http.Request, res fileshttp.Resource) (access.Resource, error) {
			return e.rf.AccessResource(r, res.BucketID)
		}))
	// The host's auth middleware: X-User names the caller.
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-User"); u != "" {
			r = r.WithContext(access.WithIdentity(r.Context(), access.Identity{ID: u}))
		}
		h.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/records/{id}/files/{key...}", auth)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rec, _, err := e.rf.Create(ctx, json.RawMessage(`{"owner":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/api/records/" + rec.ID.String() + "/files/f.txt"
	put := func(user string) int {
		req, _ := http.NewRequest("PUT", url, strings.NewReader("x"))
		req.Header.Set("X-User", user)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("bob"); code != http.StatusForbidden {
		t.Fatalf("bob PUT: %d, want 403", code)
	}
	if code := put("alice"); code/100 != 2 {
		t.Fatalf("alice PUT: %d", code)
	}
	if n, _ := e.fs.List(ctx, mustBucket(t, e, rec.ID), files.ListOptions{}); len(n.Objects) != 1 {
		t.Fatalf("objects after one allowed PUT: %+v", n)
	}
}

func mustBucket(t *testing.T, e *env, id uuid.UUID) string {
	t.Helper()
	b, err := e.rf.BucketID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
