package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/repokit/repokit/search/opensearch/osfake"
)

// TestSplitRoles runs a web process and a worker process (two Apps on the
// same database, storage folder and OpenSearch): records created through the
// web one are indexed, and their DOI registered, by the worker one.
func TestSplitRoles(t *testing.T) {
	osrv := osfake.New()
	t.Cleanup(osrv.Close)
	dc := newFakeDataCite(t, 0)
	base := embeddedConfig(t)
	base.SearchURL = strings.Replace(osrv.URL(), "http://", "opensearch://", 1)
	base.DataCiteURL, base.DataCiteUser, base.DataCitePassword = dc.srv.URL, "REPO.TEST", "secret"
	l := listen(t)
	base.Addr = l.Addr().String()
	if err := base.Resolve(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newLogger(io.Discard, "error")

	webCfg, workCfg := *base, *base
	web, err := Open(ctx, &webCfg, log, appOptions{bcryptCost: bcrypt.MinCost, queues: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	worker, err := Open(ctx, &workCfg, log, appOptions{queues: []string{queueIndexing, queueDefault}})
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- web.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()

	u, err := web.users.Create(ctx, "fay@example.org", "fay-password", false, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := web.users.CreateToken(ctx, u.ID, "t")
	e := &testEnv{t: t, app: web, base: webCfg.BaseURL, client: http.DefaultClient}
	r := e.do("POST", "/api/records", tok, map[string]any{"metadata": map[string]any{"title": "Split roles", "creators": []string{"F"}, "resource_type": "dataset"}})
	if r.Status != 201 {
		t.Fatalf("create on the web process: %d %s", r.Status, r.Body)
	}
	id := r.json(t)["id"].(string)
	waitFor(t, "the worker to index the record", 30*time.Second, func() bool {
		return total(t, e.do("GET", "/api/records?q=split", "", nil).json(t)) == 1
	})
	waitFor(t, "the worker to register the DOI", 30*time.Second, func() bool {
		p, _ := e.do("GET", "/api/records/"+id, "", nil).json(t)["pids"].(map[string]any)
		return p["doi"] == web.datacite.DOIFor(id)
	})
}
