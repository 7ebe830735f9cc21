package integration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/tasks"
)

// TestTelemetry installs the OTel SDK with in-memory exporters and checks
// that record operations, file transfers, search requests, task executions
// and cache lookups emit spans and metrics with semantic-convention
// attributes. (Not parallel: it sets the global providers.)
func TestTelemetry(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	defer func() {
		otel.SetTracerProvider(sdktrace.NewTracerProvider())
		otel.SetMeterProvider(sdkmetric.NewMeterProvider())
	}()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqldb.Open(ctx, "sqlite://"+filepath.Join(dir, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Records.
	base, err := records.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	recs := records.Instrument(base)
	rec, err := recs.Create(ctx, json.RawMessage(`{"title":"traced"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recs.Update(ctx, rec.ID, json.RawMessage(`{"title":"x"}`), 7); err == nil {
		t.Fatal("stale update accepted")
	}

	// Cache hits and misses.
	c, err := cache.Open(ctx, "mem://", cache.WithTelemetry("memory"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Get(ctx, "absent")
	_ = c.Set(ctx, "k", []byte("v"), time.Minute)
	_, _ = c.Get(ctx, "k")

	// File transfers.
	locs, err := storage.Open(ctx, "file://"+filepath.Join(dir, "f")+"?create_dir=1")
	if err != nil {
		t.Fatal(err)
	}
	defer locs.Close()
	fs, err := files.New(ctx, db, locs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.CreateBucket(ctx, files.BucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := fileshttp.Instrument(http.StripPrefix("/files", fileshttp.New(fs)), "/files")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("PUT", "/files/"+b.ID+"/a.txt", strings.NewReader("hello")))
	if w.Code/100 != 2 {
		t.Fatalf("PUT %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/files/"+b.ID+"/a.txt", nil))

	// Search.
	eng, err := search.Open(ctx, "bleve://"+filepath.Join(dir, "idx"))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ix, err := eng.EnsureIndex(ctx, "records", search.Definition{})
	if err != nil {
		t.Fatal(err)
	}
	sr, err := search.NewSearcher(ix, search.SearchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := search.Instrument(sr).Search(ctx, &search.Request{}); err != nil {
		t.Fatal(err)
	}

	// Task execution.
	tc, err := tasks.New(ctx, db, tasks.WithMiddleware(tasks.OTelMiddleware()), tasks.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	tasks.Register(tc, "hello", func(ctx context.Context, _ *tasks.Task[struct{}]) error { return nil })
	if err := tc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := tc.Enqueue(ctx, "hello", struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := tc.Wait(wctx, id); err != nil {
		t.Fatal(err)
	}
	_ = tc.Stop(ctx)

	// Spans, by name, with their attributes.
	got := map[string]map[attribute.Key]attribute.Value{}
	for _, s := range spans.GetSpans() {
		m := map[attribute.Key]attribute.Value{}
		for _, a := range s.Attributes {
			m[a.Key] = a.Value
		}
		if _, seen := got[s.Name]; !seen {
			got[s.Name] = m
		}
	}
	want := map[string]map[attribute.Key]string{
		"create records": {"db.system.name": "sqlite", "db.operation.name": "create"},
		"update records": {"error.type": "records: conflict"},
		"GET":            {"db.system.name": "memory"},
		"PUT /files":     {"http.request.method": "PUT", "http.route": "/files"},
		"GET /files":     {"http.response.status_code": "200"},
		"search records": {"db.operation.name": "search", "db.collection.name": "records"},
		"process hello":  {"messaging.system": "repokit_tasks", "messaging.operation.type": "process", "messaging.destination.name": "default"},
	}
	for name, attrs := range want {
		have, ok := got[name]
		if !ok {
			t.Errorf("no span %q (have %v)", name, keys(got))
			continue
		}
		for k, v := range attrs {
			if have[k].String() != v {
				t.Errorf("span %q: %s = %q, want %q", name, k, have[k].String(), v)
			}
		}
	}

	// Metrics: durations, cache lookups by result, consumed messages, bytes.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	metrics := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			metrics[sm.Scope.Name+" "+m.Name] = m.Data
		}
	}
	for _, name := range []string{
		"github.com/repokit/repokit/records db.client.operation.duration",
		"github.com/repokit/repokit/cache repokit.cache.lookups",
		"github.com/repokit/repokit/files/fileshttp http.server.request.duration",
		"github.com/repokit/repokit/files/fileshttp http.server.response.body.size",
		"github.com/repokit/repokit/search db.client.operation.duration",
		"github.com/repokit/repokit/tasks messaging.process.duration",
		"github.com/repokit/repokit/tasks messaging.client.consumed.messages",
	} {
		if metrics[name] == nil {
			t.Errorf("no metric %s", name)
		}
	}
	if sum, ok := metrics["github.com/repokit/repokit/cache repokit.cache.lookups"].(metricdata.Sum[int64]); ok {
		results := map[string]int64{}
		for _, dp := range sum.DataPoints {
			v, _ := dp.Attributes.Value("repokit.cache.result")
			results[v.AsString()] += dp.Value
		}
		if results["hit"] != 1 || results["miss"] != 1 {
			t.Errorf("cache lookups %v, want one hit and one miss", results)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
