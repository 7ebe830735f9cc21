package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq"
	"github.com/repokit/repokit/files"
	"golang.org/x/crypto/bcrypt"
)

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serviceURL returns the env var, or skips (fails under
// REPOKIT_TEST_REQUIRE_SERVICES=1).
func serviceURL(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("REPOKIT_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set and REPOKIT_TEST_REQUIRE_SERVICES=1", env)
		}
		t.Skipf("%s not set; skipping", env)
	}
	return v
}

// freshDB creates an empty database on the server of base (postgres:// or
// mysql://) and returns its URL; it is dropped when the test ends.
func freshDB(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	name := "repokit_e2e_" + randHex(5)
	var driver, dsn string
	switch u.Scheme {
	case "postgres", "postgresql":
		driver, dsn = "postgres", base
	case "mysql", "mariadb":
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net, cfg.Addr = "tcp", u.Host
		driver, dsn = "mysql", cfg.FormatDSN()
	default:
		t.Fatalf("freshDB: unsupported %s", u.Scheme)
	}
	admin, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		q := "DROP DATABASE IF EXISTS " + name
		if driver == "postgres" {
			q += " WITH (FORCE)"
		}
		if _, err := admin.Exec(q); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// testEnv is a running server (web and workers) with its fakes.
type testEnv struct {
	t        *testing.T
	app      *App
	base     string
	client   *http.Client
	datacite *fakeDataCite
	smtp     *fakeSMTP
}

// embeddedConfig is the default configuration in a temp data folder.
func embeddedConfig(t *testing.T) *Config {
	cfg := &Config{Data: t.TempDir(), CacheURL: "mem://?max_bytes=16MiB", IndexPrefix: "t-", MaxUpload: 64 << 20, MaxBody: 1 << 20,
		OffloadMinSize: 1 << 20, RetryBase: 50 * time.Millisecond, FixityPeriod: time.Hour, UploadTTL: 3 * time.Second, ShutdownTimeout: 10 * time.Second, DOIPrefix: "10.5072"}
	return cfg
}

// startEnv opens the app on cfg, serves it on a random port and starts the
// workers; everything stops when the test ends.
func startEnv(t *testing.T, cfg *Config) *testEnv {
	t.Helper()
	e := &testEnv{t: t, datacite: newFakeDataCite(t, 2), smtp: newFakeSMTP(t)}
	cfg.DataCiteURL, cfg.DataCiteUser, cfg.DataCitePassword = e.datacite.srv.URL, "REPO.TEST", "secret"
	cfg.SMTPAddr, cfg.MailFrom = e.smtp.addr, "repo@example.org"
	l := listen(t)
	cfg.Addr = l.Addr().String()
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	app, err := Open(ctx, cfg, log, appOptions{bcryptCost: bcrypt.MinCost})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := app.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		sctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		_ = app.Stop(sctx)
		if err := app.Close(); err != nil {
			t.Logf("close: %v", err)
		}
	})
	e.app, e.base = app, cfg.BaseURL
	e.client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// user creates a user and returns it with a personal token.
func (e *testEnv) user(email string, admin bool) (*User, string) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.app.users.Create(ctx, email, "password-"+email, admin, bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.app.users.CreateToken(ctx, u.ID, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not JSON (status %d): %s", r.Status, r.Body)
	}
	return m
}

// do sends a request; token "" is anonymous; hdr are extra header pairs.
func (e *testEnv) do(method, path, token string, body any, hdr ...string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	if method == "GET" && (strings.HasPrefix(path, "/api/records?") || strings.HasPrefix(path, "/search")) {
		// OpenSearch shows writes after its periodic refresh (1s); the fake
		// one only on demand: refresh, as the periodic refresh would.
		_ = e.app.index.Refresh(context.Background())
	}
	u := path
	if strings.HasPrefix(path, "/") {
		u = e.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if _, ok := body.(map[string]any); ok {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func total(t *testing.T, m map[string]any) int {
	t.Helper()
	h, _ := m["hits"].(map[string]any)
	n, ok := h["total"].(float64)
	if !ok {
		t.Fatalf("no hits.total in %v", m)
	}
	return int(n)
}

func bucketCount(m map[string]any, facet, key string) int {
	aggs, _ := m["aggregations"].(map[string]any)
	f, _ := aggs[facet].(map[string]any)
	bs, _ := f["buckets"].([]any)
	for _, b := range bs {
		bm, _ := b.(map[string]any)
		if bm["key"] == key {
			n, _ := bm["doc_count"].(float64)
			return int(n)
		}
	}
	return 0
}

func filesPut() files.PutOptions { return files.PutOptions{} }

func strconvItoa(n int) string { return fmt.Sprint(n) }
