package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/access"
	_ "github.com/repokit/repokit/cache/redisdriver"
	"github.com/repokit/repokit/internal/integration"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	_ "github.com/repokit/repokit/search/blevesearch"
	_ "github.com/repokit/repokit/storage/s3native"
	"github.com/repokit/repokit/storage/storagetest"
	"github.com/repokit/repokit/tasks"
	_ "github.com/repokit/repokit/tasks/broker/pubsubbroker"
)

func fastTasks() []tasks.Option {
	return []tasks.Option{tasks.WithPollInterval(20 * time.Millisecond), tasks.WithLease(5 * time.Second)}
}

// TestEmbedded runs the whole host on the embedded defaults: SQLite, local
// files, bleve, in-memory cache, SQL task delivery.
func TestEmbedded(t *testing.T) {
	dir := t.TempDir()
	run(t, integration.Config{
		DB:          "sqlite://" + filepath.Join(dir, "repo.db"),
		Files:       "file://" + filepath.Join(dir, "files") + "?create_dir=1",
		Search:      "bleve://" + filepath.Join(dir, "index"),
		Cache:       "mem://",
		TaskOptions: fastTasks(),
	})
}

// TestServices runs the same host on PostgreSQL and MariaDB with Redis,
// RabbitMQ and (when REPOKIT_TEST_S3_URL is set) S3.
func TestServices(t *testing.T) {
	redisURL := sqldbtest.ServiceURL(t, "REPOKIT_TEST_REDIS_URL")
	rabbitURL := sqldbtest.ServiceURL(t, "REPOKIT_TEST_RABBIT_URL")
	for _, d := range []sqldb.Dialect{sqldb.Postgres, sqldb.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			prefix := "rk-int-" + randHex() + "-"
			filesURL := "file://" + filepath.Join(dir, "files") + "?create_dir=1"
			if os.Getenv(storagetest.S3Env) != "" {
				storagetest.OpenS3(t) // creates the bucket if missing
				u, _ := url.Parse(os.Getenv(storagetest.S3Env))
				q := u.Query()
				q.Set("prefix", q.Get("prefix")+prefix)
				u.RawQuery = q.Encode()
				filesURL = u.String()
			}
			rabbit, _ := url.Parse(rabbitURL)
			rabbit.Scheme = "rabbit"
			rabbit.RawQuery = url.Values{"prefix": {prefix}}.Encode()
			cacheURL, _ := url.Parse(redisURL)
			q := cacheURL.Query()
			q.Set("prefix", prefix)
			cacheURL.RawQuery = q.Encode()
			run(t, integration.Config{
				DB:          sqldbtest.FreshURL(t, d),
				Files:       filesURL,
				Search:      "bleve://" + filepath.Join(dir, "index"),
				Cache:       cacheURL.String(),
				Broker:      rabbit.String(),
				TaskOptions: fastTasks(),
			})
		})
	}
}

func randHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type response struct {
	code   int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not JSON: %q", r.body)
	}
	return m
}

func run(t *testing.T, cfg integration.Config) {
	ctx := context.Background()
	repo, err := integration.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		start := time.Now()
		repo.Close()
		t.Logf("closed in %v", time.Since(start).Round(time.Millisecond))
	}()
	srv := httptest.NewServer(repo.Handler)
	defer srv.Close()
	do := func(user, method, path, body string, header ...string) response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body == "" {
			req.Body = nil
		}
		if user != "" {
			req.Header.Set("Authorization", "Bearer "+user)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, string(b)}
	}
	want := func(r response, code int, what string) {
		t.Helper()
		if r.code != code {
			t.Fatalf("%s: %d %s, want %d", what, r.code, r.body, code)
		}
	}

	// Record + recid in revision 0 + bucket, in one transaction.
	r := do("alice", "POST", "/api/records", `{"title":"Relativity","owners":["alice"],"access":"public"}`)
	want(r, 201, "create")
	created := r.json(t)
	id := created["id"].(string)
	meta := created["metadata"].(map[string]any)
	if recid := created["recid"].(map[string]any); recid["Value"] != "1" || meta["id"] != "1" {
		t.Fatalf("recid not in revision 0: %s", r.body)
	}
	rec := "/api/records/" + id

	// File in the record's bucket; forbidden for another identity.
	want(do("alice", "PUT", rec+"/files/data.csv", "a,b\n1,2\n"), 200, "alice uploads")
	want(do("bob", "PUT", rec+"/files/evil.csv", "x"), 403, "bob uploads")
	if r := do("", "GET", rec+"/files/data.csv", ""); r.code != 200 || r.body != "a,b\n1,2\n" {
		t.Fatalf("anonymous download of a public record's file: %d %q", r.code, r.body)
	}

	// Indexed and searchable (the outbox indexer runs in the tasks client).
	var last response
	defer func() {
		if t.Failed() {
			t.Logf("last search: %d %s", last.code, last.body)
			rows, _ := repo.DB.Queryx("SELECT id, type, state, attempt, args, run_at FROM tasks_jobs")
			for rows != nil && rows.Next() {
				m := map[string]any{}
				_ = rows.MapScan(m)
				for k, v := range m {
					if b, ok := v.([]byte); ok {
						m[k] = string(b)
					}
				}
				t.Logf("task %v", m)
			}
		}
	}()
	waitFor(t, "record searchable", func() bool {
		r := do("", "GET", "/api/search?q=Relativity", "")
		last = r
		return r.code == 200 && r.json(t)["Total"] == float64(1)
	})

	// Cached page purged on update (after the commit).
	want(do("", "GET", rec, ""), 200, "anonymous read")
	if r := do("", "GET", rec, ""); r.header.Get("X-Cache") != "HIT" || r.header.Get("ETag") != "0" {
		t.Fatalf("second anonymous read: X-Cache %q ETag %q", r.header.Get("X-Cache"), r.header.Get("ETag"))
	}
	want(do("alice", "PUT", rec, `{"title":"Relativity, special","owners":["alice"],"access":"public","id":"1"}`, "If-Match", "0"), 200, "alice updates")
	if r := do("", "GET", rec, ""); r.header.Get("X-Cache") == "HIT" || r.header.Get("ETag") != "1" {
		t.Fatalf("read after update served the old page: X-Cache %q ETag %q %s", r.header.Get("X-Cache"), r.header.Get("ETag"), r.body)
	}

	// A search page cached before the update was indexed is purged when the
	// indexer confirms it.
	do("", "GET", "/api/search?q=special", "")
	waitFor(t, "update searchable by anonymous users", func() bool {
		return do("", "GET", "/api/search?q=special", "").json(t)["Total"] == float64(1)
	})
	if r := do("", "GET", "/api/search?q=special", ""); r.header.Get("X-Cache") != "HIT" {
		t.Fatalf("search pages are not cached at all (X-Cache %q): the purge test above proves nothing", r.header.Get("X-Cache"))
	}

	// Forbidden for another identity, with safe messages.
	r = do("bob", "PUT", rec, `{"title":"mine","owners":["bob"]}`, "If-Match", "1")
	want(r, 403, "bob updates")
	if msg := r.json(t)["message"]; msg != "you are not allowed to update this record" {
		t.Fatalf("bob's refusal: %q", msg)
	}
	want(do("", "PUT", rec, `{"title":"anon","owners":[]}`, "If-Match", "1"), 401, "anonymous update")
	r = do("alice", "POST", "/api/records", `{"title":"Secret","owners":["alice"],"access":"restricted"}`)
	want(r, 201, "create restricted")
	secret := "/api/records/" + r.json(t)["id"].(string)
	want(do("bob", "GET", secret, ""), 403, "bob reads a restricted record")
	want(do("alice", "GET", secret, ""), 200, "alice reads her restricted record")
	waitFor(t, "restricted record searchable by its owner", func() bool {
		return do("alice", "GET", "/api/search?q=Secret", "").json(t)["Total"] == float64(1)
	})
	if total := do("bob", "GET", "/api/search?q=Secret", "").json(t)["Total"]; total != float64(0) {
		t.Fatalf("bob finds the restricted record: total %v", total)
	}

	// Errors safe to show.
	r = do("", "GET", "/api/records/"+uuid.NewString(), "")
	if r.code != 404 || r.json(t)["message"] != "not found" {
		t.Fatalf("unknown record: %d %s", r.code, r.body)
	}
	r = do("alice", "POST", "/api/records", `{"owners":["alice"]}`)
	if r.code != 400 || !strings.Contains(r.body, `"errors"`) || strings.Contains(r.body, "example.org") {
		t.Fatalf("invalid document: %d %s", r.code, r.body)
	}
	want(do("alice", "PUT", rec, `{"title":"stale","owners":["alice"]}`, "If-Match", "0"), 409, "stale update")

	// Deleting the record deletes its files (cascade in the same transaction).
	if _, err := repo.Recs.Delete(ctxAs("alice"), uuid.MustParse(id)); err != nil {
		t.Fatal(err)
	}
	want(do("alice", "GET", rec+"/files/data.csv", ""), 404, "file of a deleted record")
	r = do("", "GET", rec, "")
	if r.code != 410 || r.header.Get("X-Cache") == "HIT" {
		t.Fatalf("deleted record: %d (X-Cache %q) %s", r.code, r.header.Get("X-Cache"), r.body)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond)) }()
	// Shorter than the page cache's TTL (1 minute): a stale cached search
	// page cannot pass by expiring.
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func ctxAs(user string) context.Context {
	return access.WithIdentity(context.Background(), access.Identity{ID: user})
}
