package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the binary's entry point and returns exit code, stdout, stderr.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestServeStartsAndStops is README's main command: it starts on the
// embedded defaults in a data folder, prints the URL, answers, and shuts
// down gracefully when its context ends (SIGTERM in main).
func TestServeStartsAndStops(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data", data, "--shutdown-timeout", "5s"}, strings.NewReader(""), &out, &errb)
	}()
	var url string
	waitFor(t, "the URL on stdout", 60*time.Second, func() bool {
		s := out.String()
		i := strings.Index(s, "listening on ")
		if i < 0 {
			return false
		}
		url = strings.Fields(s[i+len("listening on "):])[0]
		return true
	})
	res, err := http.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	res, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Search records") {
		t.Fatalf("home page: %d", res.StatusCode)
	}
	for _, f := range []string{"repository.db", "search", "files", "secret.key"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("data folder lacks %s: %v", f, err)
		}
	}
	// A second process on the same embedded index fails at once, cleanly.
	for _, args := range [][]string{{"worker", "--data", data}, {"reindex", "--data", data}} {
		code, _, errs := cli(t, "", args...)
		if code != exitFailure || !strings.Contains(errs, "in use by another process") {
			t.Errorf("%v while the server runs: %d %q", args, code, errs)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
}

func TestAdminCommands(t *testing.T) {
	data := t.TempDir()
	d := []string{"--data", data}
	if code, _, _ := cli(t, "", "nonsense"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := cli(t, "", "create-admin", "--data", data); code != exitUsage {
		t.Errorf("create-admin without --email: exit %d", code)
	}
	code, out, errs := cli(t, "correct-horse-battery\n", append([]string{"create-admin", "--email", "root@example.org"}, d...)...)
	if code != 0 || !strings.Contains(out, "created admin root@example.org") {
		t.Fatalf("create-admin: %d %s %s", code, out, errs)
	}
	if code, _, _ := cli(t, "", append([]string{"create-token", "--email", "nobody@example.org"}, d...)...); code != exitFailure {
		t.Errorf("token for unknown user: exit %d", code)
	}

	// Import: good lines are kept, bad ones reported by line number.
	jsonl := strings.Join([]string{
		`{"metadata": {"title": "First", "creators": ["A"], "resource_type": "dataset", "keywords": ["x"]}}`,
		`{"metadata": {"title": "", "creators": ["A"], "resource_type": "dataset"}}`,
		`not json`,
		``,
		`{"metadata": {"title": "Second", "creators": ["B"], "resource_type": "software"}, "access": {"record": "restricted"}}`,
	}, "\n")
	file := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(file, []byte(jsonl), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli(t, "", append([]string{"import", "--owner", "root@example.org", file}, d...)...)
	if code != exitProblems || !strings.Contains(out, "imported 2 records, rejected 2 lines") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	if !strings.Contains(errs, "line 2: the document does not match its schema metadata.title") || !strings.Contains(errs, "line 3: not valid JSON") {
		t.Errorf("import errors: %q", errs)
	}

	// Export writes both records; the index is rebuilt from the database.
	code, out, _ = cli(t, "", append([]string{"export"}, d...)...)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"title":"Second"`) || !strings.Contains(out, `"owner":"root@example.org"`) {
		t.Fatalf("export: %d %q", code, out)
	}
	code, out, errs = cli(t, "", append([]string{"check-drift"}, d...)...)
	if code != exitProblems || !strings.Contains(out, "missing 2") {
		t.Fatalf("check-drift before indexing: %d %q %q", code, out, errs)
	}
	code, out, errs = cli(t, "", append([]string{"reindex"}, d...)...)
	if code != 0 || !strings.Contains(out, "reindexed 2 records") {
		t.Fatalf("reindex: %d %q %q", code, out, errs)
	}
	if code, out, _ = cli(t, "", append([]string{"check-drift"}, d...)...); code != 0 || !strings.Contains(out, "index matches") {
		t.Fatalf("check-drift after reindex: %d %q", code, out)
	}

	// Files: verify, damage one, verify again, migrate to another location.
	env := func(extra ...string) []string {
		return append(append([]string{}, d...), append([]string{"--locations", "archive=file://" + filepath.Join(data, "archive") + "?create_dir=1"}, extra...)...)
	}
	ctx := context.Background()
	{
		cfg := Config{Data: data, CacheURL: "mem://", IndexPrefix: "repokit-", MaxUpload: 1 << 20}
		if err := cfg.Resolve(); err != nil {
			t.Fatal(err)
		}
		app, err := Open(ctx, &cfg, newLogger(io.Discard, "error"), appOptions{noSearch: true})
		if err != nil {
			t.Fatal(err)
		}
		_, s, err := app.resolve(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a.txt", "b.txt"} {
			if _, err := app.files.Put(ctx, s.Bucket, k, strings.NewReader("content of "+k), filesPut()); err != nil {
				t.Fatal(err)
			}
		}
		app.Close()
	}
	if code, out, errs = cli(t, "", append([]string{"verify-files"}, d...)...); code != 0 || !strings.Contains(out, "verified 2 files, 0 damaged") {
		t.Fatalf("verify-files: %d %q %q", code, out, errs)
	}
	if code, _, _ = cli(t, "", append([]string{"migrate-files", "--to", "nowhere"}, env()...)...); code != exitUsage {
		t.Errorf("migrate to unknown location: %d", code)
	}
	if code, out, errs = cli(t, "", append([]string{"migrate-files", "--to", "archive"}, env()...)...); code != 0 || !strings.Contains(out, "0 failed") {
		t.Fatalf("migrate-files: %d %q %q", code, out, errs)
	}
	if code, out, _ = cli(t, "", append([]string{"verify-files"}, env()...)...); code != 0 || !strings.Contains(out, "verified 2 files") {
		t.Fatalf("verify after migration: %d %q", code, out)
	}
	// Damage a file in the archive location: verify-files exits 3.
	var victim string
	_ = filepath.Walk(filepath.Join(data, "archive"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && victim == "" {
			victim = p
		}
		return nil
	})
	if victim == "" {
		t.Fatal("no migrated file in the archive location")
	}
	if err := os.WriteFile(victim, []byte("rotten bits"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = cli(t, "", append([]string{"verify-files"}, env()...)...); code != exitProblems || !strings.Contains(out, "1 damaged") {
		t.Fatalf("verify damaged: %d %q", code, out)
	}
}
