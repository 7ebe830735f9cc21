package main

import (
	"strings"
	"testing"
)

// TestAccelRedirect: behind Nginx, downloads are answered with an
// X-Accel-Redirect to the file's internal location and no body, after the
// permission check.
func TestAccelRedirect(t *testing.T) {
	cfg := embeddedConfig(t)
	cfg.AccelPrefix = "/_protected"
	e := startEnv(t, cfg)
	_, tok := e.user("erin@example.org", false)
	r := e.do("POST", "/api/records", tok, map[string]any{"metadata": map[string]any{"title": "Accel", "creators": []string{"E"}, "resource_type": "dataset"},
		"access": map[string]any{"record": "restricted"}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.json(t)["id"].(string)
	if r := e.do("PUT", "/api/records/"+id+"/files/f.txt", tok, "bytes"); r.Status >= 300 {
		t.Fatalf("upload: %d", r.Status)
	}
	r = e.do("GET", "/api/records/"+id+"/files/f.txt", tok, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("X-Accel-Redirect"), "/_protected/default/") || len(r.Body) != 0 {
		t.Fatalf("owner download: %d %q %q", r.Status, r.Header.Get("X-Accel-Redirect"), r.Body)
	}
	r = e.do("GET", "/api/records/"+id+"/files/f.txt", "", nil)
	if r.Status != 404 || r.Header.Get("X-Accel-Redirect") != "" {
		t.Fatalf("anonymous download of a restricted file: %d %q", r.Status, r.Header.Get("X-Accel-Redirect"))
	}
}

func TestRoleUsage(t *testing.T) {
	if code, _, errs := cli(t, "", "worker", "--queues", "bogus", "--data", t.TempDir()); code != exitUsage || !strings.Contains(errs, "unknown queue") {
		t.Errorf("worker --queues bogus: %d %q", code, errs)
	}
	if code, _, _ := cli(t, "", "web", "--no-such-flag"); code != exitUsage {
		t.Errorf("unknown flag: %d", code)
	}
	if code, out, _ := cli(t, "", "help"); code != 0 || !strings.Contains(out, "migrate-files") {
		t.Errorf("help: %d", code)
	}
}
