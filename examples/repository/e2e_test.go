package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search/opensearch/osfake"
	"github.com/repokit/repokit/storage/storagetest"
	"github.com/repokit/repokit/tasks"
)

// TestE2E drives the REST API of a server on the embedded defaults.
func TestE2E(t *testing.T) {
	runSuite(t, startEnv(t, embeddedConfig(t)))
}

// TestE2EServices runs the same suite on PostgreSQL + RabbitMQ + Redis + S3
// with the OpenSearch driver (on REPOKIT_TEST_OPENSEARCH_URL, else on the
// library's fake OpenSearch), and on MariaDB.
func TestE2EServices(t *testing.T) {
	t.Run("postgres-rabbit-redis-s3", func(t *testing.T) {
		cfg := embeddedConfig(t)
		cfg.DBURL = freshDB(t, serviceURL(t, "REPOKIT_TEST_POSTGRES_URL"))
		cfg.CacheURL = serviceURL(t, "REPOKIT_TEST_REDIS_URL")
		rabbit := serviceURL(t, "REPOKIT_TEST_RABBIT_URL")
		cfg.BrokerURL = withQuery(t, strings.Replace(rabbit, "amqp://", "rabbit://", 1), "prefix", "e2e"+randHex(4))
		// storagetest.OpenS3 creates the bucket when the S3 server has
		// none yet (a fresh CI machine), as an operator would beforehand.
		storagetest.OpenS3(t)
		cfg.StorageURL = withQuery(t, serviceURL(t, "REPOKIT_TEST_S3_URL"), "prefix", "e2e-"+randHex(4)+"/")
		cfg.IndexPrefix = "e2e" + randHex(4) + "-"
		if os.Getenv("REPOKIT_TEST_OPENSEARCH_URL") != "" {
			cfg.SearchURL = os.Getenv("REPOKIT_TEST_OPENSEARCH_URL")
		} else {
			// No OpenSearch runs on CI: the OpenSearch driver then talks to
			// the library's in-process FAKE OpenSearch (osfake).
			srv := osfake.New()
			t.Cleanup(srv.Close)
			cfg.SearchURL = strings.Replace(srv.URL(), "http://", "opensearch://", 1)
		}
		runSuite(t, startEnv(t, cfg))
	})
	t.Run("mariadb", func(t *testing.T) {
		cfg := embeddedConfig(t)
		cfg.DBURL = freshDB(t, serviceURL(t, "REPOKIT_TEST_MYSQL_URL"))
		runSuite(t, startEnv(t, cfg))
	})
}

func withQuery(t *testing.T, raw, k, v string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func runSuite(t *testing.T, e *testEnv) {
	alice, aliceTok := e.user("alice@example.org", false)
	_, bobTok := e.user("bob@example.org", false)
	_, adminTok := e.user("admin@example.org", true)
	word := "zq" + randHex(3) // a word only this run's records contain

	t.Run("health", func(t *testing.T) {
		if r := e.do("GET", "/healthz", "", nil); r.Status != 200 {
			t.Fatalf("healthz %d", r.Status)
		}
		r := e.do("GET", "/readyz", "", nil)
		if r.Status != 200 || strings.Count(string(r.Body), `"ok"`) != 5 {
			t.Fatalf("readyz %d %s", r.Status, r.Body)
		}
	})

	t.Run("validation errors", func(t *testing.T) {
		r := e.do("POST", "/api/records", aliceTok, map[string]any{"metadata": map[string]any{"title": "", "resource_type": "nope"}})
		if r.Status != 400 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		m := r.json(t)
		fields := fmt.Sprint(m["errors"])
		for _, f := range []string{"metadata.title", "metadata.resource_type", "metadata"} {
			if !strings.Contains(fields, f) {
				t.Errorf("errors %s lack %s", fields, f)
			}
		}
		if r := e.do("POST", "/api/records", "", map[string]any{}); r.Status != 401 {
			t.Errorf("anonymous create: %d", r.Status)
		}
	})

	// Deposit a record with two files.
	meta := map[string]any{"title": "Ocean salinity " + word, "creators": []string{"Alice A."}, "resource_type": "software",
		"keywords": []string{"kw" + word, "ocean"}, "publication_year": 2024, "description": "Measurements."}
	r := e.do("POST", "/api/records", aliceTok, map[string]any{"metadata": meta, "access": map[string]any{"record": "public"}})
	if r.Status != 201 || r.Header.Get("ETag") != `"0"` {
		t.Fatalf("create: %d %s %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
	rec := r.json(t)
	id := rec["id"].(string)
	if rec["revision_id"].(float64) != 0 {
		t.Fatalf("revision %v", rec["revision_id"])
	}
	// The recid is in revision 0 itself.
	r = e.do("GET", "/api/records/"+id+"/revisions", aliceTok, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"revision_id": 0`) {
		t.Fatalf("revisions: %d %s", r.Status, r.Body)
	}
	content1 := strings.Repeat("0123456789", 100)
	content2 := "second file " + word
	for k, c := range map[string]string{"data.csv": content1, "readme.txt": content2} {
		if r := e.do("PUT", "/api/records/"+id+"/files/"+k, aliceTok, c); r.Status != 200 && r.Status != 201 {
			t.Fatalf("upload %s: %d %s", k, r.Status, r.Body)
		}
	}
	if r := e.do("PUT", "/api/records/"+id+"/files/evil.txt", bobTok, "x"); r.Status != 403 {
		t.Errorf("bob uploads to alice's record: %d", r.Status)
	}

	t.Run("files list and range download", func(t *testing.T) {
		r := e.do("GET", "/api/records/"+id+"/files", "", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), "data.csv") || !strings.Contains(string(r.Body), "readme.txt") {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		r = e.do("GET", "/api/records/"+id+"/files/data.csv", "", nil, "Range", "bytes=105-114")
		if r.Status != 206 || string(r.Body) != content1[105:115] {
			t.Fatalf("range: %d %q", r.Status, r.Body)
		}
	})

	t.Run("search and facets", func(t *testing.T) {
		var m map[string]any
		waitFor(t, "the record in search", 30*time.Second, func() bool {
			m = e.do("GET", "/api/records?q="+word, "", nil).json(t)
			return total(t, m) == 1
		})
		if n := bucketCount(m, "keywords", "kw"+word); n != 1 {
			t.Errorf("keyword facet count %d", n)
		}
		m = e.do("GET", "/api/records?q="+word+"&resource_type=software", "", nil).json(t)
		if total(t, m) != 1 {
			t.Errorf("facet filter software: %v", m["hits"])
		}
		m = e.do("GET", "/api/records?q="+word+"&resource_type=dataset", "", nil).json(t)
		if total(t, m) != 0 {
			t.Errorf("facet filter dataset: %v", m["hits"])
		}
		m = e.do("GET", "/api/records?q=title:"+word+"&sort=newest&size=5&page=1", "", nil).json(t)
		if total(t, m) != 1 {
			t.Errorf("field query: %v", m["hits"])
		}
		if r := e.do("GET", "/api/records?q=secret:x", "", nil); r.Status != 400 {
			t.Errorf("field outside the allow-list: %d", r.Status)
		}
	})

	t.Run("etag and stale update", func(t *testing.T) {
		// A restricted record: it gets no DOI, so no task writes a revision
		// behind the test's back.
		em := map[string]any{"title": "Draft " + word, "creators": []string{"Alice"}, "resource_type": "other"}
		r := e.do("POST", "/api/records", aliceTok, map[string]any{"metadata": em, "access": map[string]any{"record": "restricted"}})
		if r.Status != 201 {
			t.Fatalf("create: %d", r.Status)
		}
		eid := r.json(t)["id"].(string)
		r = e.do("GET", "/api/records/"+eid, aliceTok, nil)
		if r.Header.Get("ETag") != `"0"` || !strings.Contains(string(r.Body), alice.ID) {
			t.Fatalf("etag %q / owners shown to the owner", r.Header.Get("ETag"))
		}
		em["title"] = "Draft v2 " + word
		r = e.do("PUT", "/api/records/"+eid, aliceTok, map[string]any{"metadata": em}, "If-Match", `"0"`)
		if r.Status != 200 || r.Header.Get("ETag") != `"1"` {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		r = e.do("PUT", "/api/records/"+eid, aliceTok, map[string]any{"metadata": em}, "If-Match", `"0"`)
		if r.Status != 412 {
			t.Fatalf("stale update: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/api/records/"+id, "", nil); strings.Contains(string(r.Body), alice.ID) {
			t.Errorf("anonymous GET shows the owner's user id")
		}
		if r := e.do("PUT", "/api/records/"+id, bobTok, map[string]any{"metadata": meta}); r.Status != 403 {
			t.Errorf("bob updates alice's record: %d", r.Status)
		}
	})

	t.Run("page cache purged on change", func(t *testing.T) {
		// A background task (the DOI) may change the record, and so purge
		// its page, between two views: poll until a view is a hit.
		waitFor(t, "an anonymous view served from the page cache", 30*time.Second, func() bool {
			r := e.do("GET", "/records/"+id, "", nil)
			if r.Status != 200 {
				t.Fatalf("record page: %d", r.Status)
			}
			return r.Header.Get("X-Cache") == "HIT"
		})
		searchPage := "/search?q=" + word
		waitFor(t, "an anonymous search page served from the page cache", 30*time.Second, func() bool {
			return e.do("GET", searchPage, "", nil).Header.Get("X-Cache") == "HIT"
		})
		// Read-modify-write: the DOI task may add a revision meanwhile (412).
		meta["title"] = "Ocean salinity v3 " + word
		status := 0
		for range 10 {
			cur := e.do("GET", "/api/records/"+id, "", nil).Header.Get("ETag")
			if status = e.do("PUT", "/api/records/"+id, aliceTok, map[string]any{"metadata": meta}, "If-Match", cur).Status; status != 412 {
				break
			}
		}
		if status != 200 {
			t.Fatalf("update: %d", status)
		}
		third := e.do("GET", "/records/"+id, "", nil)
		if !strings.Contains(string(third.Body), "v3 "+word) {
			t.Fatalf("stale page after update (X-Cache %s)", third.Header.Get("X-Cache"))
		}
		// The search page is purged once the index shows the update (its
		// TTL is minutes: a stale page would outlive the wait).
		waitFor(t, "the search page showing the update", 30*time.Second, func() bool {
			return strings.Contains(string(e.do("GET", searchPage, "", nil).Body), "v3 "+word)
		})
	})

	t.Run("restricted record", func(t *testing.T) {
		rm := map[string]any{"title": "Secret " + word, "creators": []string{"Alice"}, "resource_type": "image", "keywords": []string{"hidden" + word}}
		r := e.do("POST", "/api/records", aliceTok, map[string]any{"metadata": rm, "access": map[string]any{"record": "restricted"}})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		rid := r.json(t)["id"].(string)
		if r := e.do("PUT", "/api/records/"+rid+"/files/secret.txt", aliceTok, "top secret"); r.Status >= 300 {
			t.Fatalf("upload: %d", r.Status)
		}
		q := "/api/records?q=" + word
		waitFor(t, "alice sees her restricted records", 30*time.Second, func() bool {
			return total(t, e.do("GET", q, aliceTok, nil).json(t)) == 3
		})
		// Fill the anonymous page cache now, to see it purged later.
		e.do("GET", "/search?q="+word, "", nil)
		for who, tok := range map[string]string{"anonymous": "", "bob": bobTok} {
			m := e.do("GET", q, tok, nil).json(t)
			if total(t, m) != 1 || strings.Contains(fmt.Sprint(m["hits"]), "Secret") {
				t.Errorf("%s: restricted record in hits/total: %v", who, m["hits"])
			}
			if bucketCount(m, "access", "restricted") != 0 || bucketCount(m, "resource_type", "image") != 0 {
				t.Errorf("%s: restricted record counted in facets: %v", who, m["aggregations"])
			}
			if r := e.do("GET", "/api/records/"+rid, tok, nil); r.Status != 404 {
				t.Errorf("%s: GET restricted record: %d", who, r.Status)
			}
			if r := e.do("GET", "/api/records/"+rid+"/files/secret.txt", tok, nil); r.Status != 404 || strings.Contains(string(r.Body), "top secret") {
				t.Errorf("%s: download restricted file: %d", who, r.Status)
			}
			if r := e.do("GET", "/records/"+rid, tok, nil); r.Status != 404 {
				t.Errorf("%s: record page: %d", who, r.Status)
			}
		}
		if r := e.do("GET", "/api/records/"+rid+"/files/secret.txt", aliceTok, nil); r.Status != 200 || string(r.Body) != "top secret" {
			t.Errorf("owner download: %d", r.Status)
		}
		if r := e.do("GET", "/api/records/"+rid, adminTok, nil); r.Status != 200 {
			t.Errorf("admin read: %d", r.Status)
		}
		if page := e.do("GET", "/search?q="+word, "", nil); strings.Contains(string(page.Body), "Secret") {
			t.Errorf("restricted record in the anonymous search page")
		}
	})

	t.Run("delete gives 410 and redirect gives 301", func(t *testing.T) {
		r := e.do("POST", "/api/records", aliceTok, map[string]any{"metadata": map[string]any{"title": "Old " + word, "creators": []string{"A"}, "resource_type": "other"}})
		old := r.json(t)["id"].(string)
		r = e.do("POST", "/api/records", aliceTok, map[string]any{"metadata": map[string]any{"title": "New " + word, "creators": []string{"A"}, "resource_type": "other"}})
		nw := r.json(t)["id"].(string)
		if _, err := e.app.pids.Redirect(context.Background(), pid.RecidType, old, pid.RecidType, nw); err != nil {
			t.Fatal(err)
		}
		r = e.do("GET", "/api/records/"+old, "", nil)
		if r.Status != 301 || r.Header.Get("Location") != "/api/records/"+nw {
			t.Errorf("redirected pid: %d %q", r.Status, r.Header.Get("Location"))
		}
		if r := e.do("DELETE", "/api/records/"+nw, bobTok, nil); r.Status != 403 {
			t.Errorf("bob deletes: %d", r.Status)
		}
		if r := e.do("DELETE", "/api/records/"+nw, aliceTok, nil, "If-Match", `"7"`); r.Status != 412 {
			t.Errorf("stale delete: %d", r.Status)
		}
		if r := e.do("DELETE", "/api/records/"+nw, aliceTok, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		for _, p := range []string{"/api/records/" + nw, "/api/records/" + nw + "/files", "/records/" + nw} {
			if r := e.do("GET", p, "", nil); r.Status != 410 {
				t.Errorf("GET %s after delete: %d", p, r.Status)
			}
		}
		waitFor(t, "deleted record gone from search", 30*time.Second, func() bool {
			return total(t, e.do("GET", "/api/records?q=title:New+AND+"+word, "", nil).json(t)) == 0
		})
	})

	t.Run("DOI registration retried until DataCite answers", func(t *testing.T) {
		doi := e.app.datacite.DOIFor(id)
		var m map[string]any
		waitFor(t, "the DOI in the record", 60*time.Second, func() bool {
			m = e.do("GET", "/api/records/"+id, "", nil).json(t)
			p, _ := m["pids"].(map[string]any)
			return p["doi"] == doi
		})
		st := e.datacite.statuses(doi)
		if len(st) < 3 || st[0] != 503 || st[1] != 503 || st[2] != 201 {
			t.Fatalf("DataCite saw %v, want 503, 503, 201, ...", st)
		}
		// The handler writes the DOI into the record before the task is marked
		// completed: wait for that state rather than reading it once.
		waitFor(t, "a DOI task completed on its third attempt", 60*time.Second, func() bool {
			infos, err := e.app.tasks.List(context.Background(), tasks.ListParams{Type: taskDOI, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range infos {
				if in.State == tasks.StateCompleted && in.Attempt == 3 {
					return true
				}
			}
			return false
		})
		if p, err := e.app.pids.Get(context.Background(), "doi", doi); err != nil || p.Status != pid.StatusRegistered {
			t.Errorf("DOI PID: %v %v", p, err)
		}
	})

	t.Run("notification e-mail", func(t *testing.T) {
		waitFor(t, "a mail to alice about the record", 30*time.Second, func() bool {
			for _, m := range e.smtp.messages() {
				if m.To == alice.Email && strings.Contains(m.Data, "Record "+id+" created") {
					return true
				}
			}
			return false
		})
	})

	t.Run("export job progress and result", func(t *testing.T) {
		if r := e.do("POST", "/api/exports", aliceTok, nil); r.Status != 403 {
			t.Errorf("non-admin export: %d", r.Status)
		}
		r := e.do("POST", "/api/exports", adminTok, nil)
		if r.Status != 202 {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		self := r.json(t)["links"].(map[string]any)["self"].(string)
		var m map[string]any
		waitFor(t, "export completed", 30*time.Second, func() bool {
			m = e.do("GET", self, adminTok, nil).json(t)
			return m["state"] == "completed"
		})
		if p, _ := m["progress"].(map[string]any); p["state"] != "completed" || p["done"].(float64) < 3 {
			t.Errorf("progress in cache: %v", m["progress"])
		}
		f := e.do("GET", self+"/file", adminTok, nil)
		if f.Status != http.StatusOK || !strings.Contains(string(f.Body), "v3 "+word) || strings.Contains(string(f.Body), `"New `+word) {
			t.Errorf("export file: %d %s", f.Status, f.Body)
		}
	})
}
