package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/tasks"
)

// TestE2EMore covers the request classes (body limits, static assets,
// offloaded downloads), cursors, multipart uploads, session login with
// CSRF, and the low-priority fixity and cleanup tasks.
func TestE2EMore(t *testing.T) {
	e := startEnv(t, embeddedConfig(t))
	_, tok := e.user("dora@example.org", false)
	word := "mo" + randHex(3)

	t.Run("body limits and static assets", func(t *testing.T) {
		big := `{"metadata": {"title": "` + strings.Repeat("x", 2<<20) + `"}}`
		if r := e.do("POST", "/api/records", tok, big, "Content-Type", "application/json"); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB JSON body: %d", r.Status)
		}
		r := e.do("GET", "/static/style.css", "", nil)
		if r.Status != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("static: %d %q", r.Status, r.Header.Get("Cache-Control"))
		}
	})

	var ids []string
	for i := range 3 {
		r := e.do("POST", "/api/records", tok, map[string]any{"metadata": map[string]any{
			"title": word + " part " + string(rune('a'+i)), "creators": []string{"D"}, "resource_type": "dataset"}})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		ids = append(ids, r.json(t)["id"].(string))
	}

	t.Run("large file: uploaded on the files route, offloaded on download", func(t *testing.T) {
		content := strings.Repeat("abcdefghijklmnop", (1<<20)/16+100) // > OffloadMinSize (1 MiB)
		if r := e.do("PUT", "/api/records/"+ids[0]+"/files/big.bin", tok, content); r.Status >= 300 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		r := e.do("GET", "/api/records/"+ids[0]+"/files/big.bin", "", nil)
		if r.Status != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/_storage/") {
			t.Fatalf("download: %d %q", r.Status, r.Header.Get("Location"))
		}
		got := e.do("GET", r.Header.Get("Location"), "", nil, "Range", "bytes=16-31")
		if got.Status != 206 || string(got.Body) != content[16:32] {
			t.Fatalf("signed URL: %d %q", got.Status, got.Body)
		}
	})

	t.Run("multipart upload", func(t *testing.T) {
		part := strings.Repeat("m", 5<<20)
		size := len(part) + 10
		base := "/api/records/" + ids[1] + "/files/multi.bin"
		r := e.do("POST", base+"?uploads&size="+itoa(size)+"&partSize="+itoa(len(part)), tok, nil)
		if r.Status >= 300 {
			t.Fatalf("init: %d %s", r.Status, r.Body)
		}
		up := r.json(t)
		uid, _ := up["id"].(string)
		if uid == "" {
			uid, _ = up["upload_id"].(string)
		}
		if uid == "" {
			t.Fatalf("no upload id in %s", r.Body)
		}
		for n, body := range []string{part, "0123456789"} {
			if r := e.do("PUT", base+"?uploadId="+uid+"&partNumber="+itoa(n+1), tok, body); r.Status >= 300 {
				t.Fatalf("part %d: %d %s", n+1, r.Status, r.Body)
			}
		}
		if r := e.do("POST", base+"?uploadId="+uid, tok, nil); r.Status >= 300 {
			t.Fatalf("complete: %d %s", r.Status, r.Body)
		}
		r = e.do("GET", base, "", nil, "Range", "bytes=-10")
		if r.Status == http.StatusFound {
			r = e.do("GET", r.Header.Get("Location"), "", nil, "Range", "bytes=-10")
		}
		if string(r.Body) != "0123456789" {
			t.Fatalf("tail of the assembled file: %d %q", r.Status, r.Body)
		}
	})

	t.Run("cursor pagination", func(t *testing.T) {
		q := "/api/records?q=" + word + "&size=1&sort=oldest"
		waitFor(t, "records indexed", 30*time.Second, func() bool { return total(t, e.do("GET", q, "", nil).json(t)) == 3 })
		seen := map[string]bool{}
		next := q
		for range 3 {
			m := e.do("GET", next, "", nil).json(t)
			hits := m["hits"].(map[string]any)["hits"].([]any)
			if len(hits) != 1 {
				t.Fatalf("page: %v", m)
			}
			seen[hits[0].(map[string]any)["id"].(string)] = true
			links := m["links"].(map[string]any)
			next, _ = links["next_cursor"].(string)
			if next == "" {
				break
			}
		}
		if len(seen) != 3 {
			t.Fatalf("cursor pages saw %v", seen)
		}
	})

	t.Run("session login and CSRF", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(e.base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, res)
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token in the login form")
		}
		form := url.Values{"email": {"dora@example.org"}, "password": {"password-dora@example.org"}, "next": {"/account"}}
		res, _ = c.PostForm(e.base+"/login", form)
		readAll(t, res)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("login without CSRF token: %d", res.StatusCode)
		}
		form.Set("csrf_token", m[1])
		form.Set("password", "wrong password")
		res, _ = c.PostForm(e.base+"/login", form)
		readAll(t, res)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password: %d", res.StatusCode)
		}
		form.Set("password", "password-dora@example.org")
		res, _ = c.PostForm(e.base+"/login", form)
		readAll(t, res)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
			t.Fatalf("login: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		res, _ = c.Get(e.base + "/api/me")
		if body := readAll(t, res); !strings.Contains(body, "dora@example.org") {
			t.Fatalf("/api/me with the session: %d %s", res.StatusCode, body)
		}
		res, _ = c.Get(e.base + "/account")
		acct := readAll(t, res)
		m = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(acct)
		if m == nil {
			t.Fatal("no CSRF token on the account page")
		}
		body := `{"metadata": {"title": "via session", "creators": ["D"], "resource_type": "other"}}`
		req, _ := http.NewRequest("POST", e.base+"/api/records", strings.NewReader(body))
		res, _ = c.Do(req)
		readAll(t, res)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cookie-authenticated POST without X-CSRF-Token: %d", res.StatusCode)
		}
		req, _ = http.NewRequest("POST", e.base+"/api/records", strings.NewReader(body))
		req.Header.Set("X-CSRF-Token", m[1])
		res, _ = c.Do(req)
		readAll(t, res)
		if res.StatusCode != http.StatusCreated {
			t.Errorf("cookie-authenticated POST with X-CSRF-Token: %d", res.StatusCode)
		}
		// The deposit form without JavaScript: one multipart POST with the
		// fields first and the file last, streamed into the new record.
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		for k, v := range map[string]string{"csrf_token": m[1], "title": "Form deposit " + word, "creators": "Dora\nEve",
			"resource_type": "publication", "keywords": "form, " + word, "access": "public", "publication_year": "2021"} {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "notes.txt")
		_, _ = fw.Write([]byte("form file " + word))
		_ = mw.Close()
		req, _ = http.NewRequest("POST", e.base+"/deposit", &mp)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, _ = c.Do(req)
		readAll(t, res)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/records/") {
			t.Fatalf("form deposit: %d %q", res.StatusCode, loc)
		}
		res, _ = c.Get(e.base + "/api" + loc + "/files/notes.txt")
		if body := readAll(t, res); body != "form file "+word {
			t.Fatalf("file of the form deposit: %d %q", res.StatusCode, body)
		}
		res, _ = c.Get(e.base + loc)
		if body := readAll(t, res); !strings.Contains(body, "Record "+strings.TrimPrefix(loc, "/records/")+" created") || !strings.Contains(body, "Dora; Eve") {
			t.Errorf("record page after the form deposit lacks the flash or the creators")
		}
		res, _ = c.PostForm(e.base+"/logout", url.Values{"csrf_token": {m[1]}})
		readAll(t, res)
		res, _ = c.Get(e.base + "/api/me")
		readAll(t, res)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("/api/me after logout: %d", res.StatusCode)
		}
	})

	t.Run("fixity checks and cleanup tasks", func(t *testing.T) {
		ctx := context.Background()
		id, err := e.app.tasks.Enqueue(ctx, taskFixity, struct{}{}, tasks.Queue(queueLow))
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if _, err := e.app.tasks.Wait(wctx, id); err != nil {
			t.Fatal(err)
		}
		rep, err := tasks.ResultAs[files.CheckReport](ctx, e.app.tasks, id)
		if err != nil || rep.Checked < 2 || rep.OK != rep.Checked {
			t.Fatalf("fixity report %+v %v", rep, err)
		}
		// An abandoned multipart upload is removed by cleanup once old enough;
		// a fresh one stays.
		_, s, err := e.app.resolve(ctx, ids[2])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.files.InitUpload(ctx, s.Bucket, "abandoned.bin", 10<<20, 5<<20, files.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		cleanup := func() CleanupReport {
			id, err := e.app.tasks.Enqueue(ctx, taskCleanup, struct{}{}, tasks.Queue(queueLow))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.app.tasks.Wait(wctx, id); err != nil {
				t.Fatal(err)
			}
			cr, err := tasks.ResultAs[CleanupReport](ctx, e.app.tasks, id)
			if err != nil {
				t.Fatal(err)
			}
			return cr
		}
		if cr := cleanup(); cr.AbandonedUploads != 0 && time.Since(started) < e.app.cfg.UploadTTL {
			t.Fatalf("cleanup removed a fresh upload: %+v", cr)
		}
		var cr CleanupReport
		waitFor(t, "the abandoned upload removed", 30*time.Second, func() bool {
			if time.Since(started) <= e.app.cfg.UploadTTL {
				return false
			}
			cr = cleanup()
			return cr.AbandonedUploads == 1
		})
		if ups, err := e.app.files.ListUploads(ctx, s.Bucket, files.UploadListOptions{}); err != nil || len(ups.Uploads) != 0 {
			t.Fatalf("uploads after cleanup: %+v %v", ups, err)
		}
		b, _ := json.Marshal(cr)
		t.Logf("cleanup report %s", b)
	})
}

func itoa(n int) string { return strconvItoa(n) }

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	if res == nil {
		t.Fatal("no response")
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
