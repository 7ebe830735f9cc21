package blevesearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/repokit/repokit/internal/zenodo"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
)

// One index of benchDocs() documents shared by the query benchmarks of a
// run (building it is the expensive part): RepoKit's index through
// Index.Bulk, and the raw bleve index with the same mapping for baselines.
var (
	queryIndexOnce sync.Once
	queryEngine    *search.Engine
	queryIndex     *search.Index
	queryRaw       bleve.Index
	queryIndexErr  error
)

func benchIndex(b *testing.B) (*search.Index, bleve.Index) {
	queryIndexOnce.Do(func() {
		ctx := context.Background()
		dir, err := tempDir()
		if err != nil {
			queryIndexErr = err
			return
		}
		docs := makeDocs(benchDocs())
		start := time.Now()
		e, err := search.Open(ctx, "bleve://"+dir+"/rk?sync=false"+benchShards())
		if err != nil {
			queryIndexErr = err
			return
		}
		ix, err := e.CreateIndex(ctx, "bench", benchDef)
		if err != nil {
			queryIndexErr = err
			return
		}
		ops := make([]search.Op, 0, benchBatch)
		for j, src := range docs {
			ops = append(ops, search.Op{Kind: search.OpIndex, ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", j), Revision: 1, Source: src})
			if len(ops) == benchBatch || j == len(docs)-1 {
				if _, err := ix.Bulk(ctx, ops); err != nil {
					queryIndexErr = err
					return
				}
				ops = ops[:0]
			}
		}
		m, err := blevesearch.Mapping(benchDef)
		if err != nil {
			queryIndexErr = err
			return
		}
		raw := rawIndex(b, filepath.Join(dir, "raw"), m, docs, true)
		b.Logf("query benchmark index: %d docs built in %s", len(docs), time.Since(start).Round(time.Second))
		// close and reopen both, so that neither is still persisting or
		// merging segments in the background while the other is measured
		if err := raw.Close(); err != nil {
			queryIndexErr = err
			return
		}
		if err := e.Close(); err != nil {
			queryIndexErr = err
			return
		}
		if raw, err = bleve.Open(filepath.Join(dir, "raw")); err != nil {
			queryIndexErr = err
			return
		}
		if e, err = search.Open(ctx, "bleve://"+dir+"/rk?"+benchShards()); err != nil {
			queryIndexErr = err
			return
		}
		if ix, err = e.OpenIndex(ctx, "bench"); err != nil {
			queryIndexErr = err
			return
		}
		queryEngine, queryIndex, queryRaw = e, ix, raw
	})
	if queryIndexErr != nil {
		b.Fatal(queryIndexErr)
	}
	return queryIndex, queryRaw
}

// tempDir is removed by TestMain after the run.
func tempDir() (string, error) {
	d, err := os.MkdirTemp("", "repokit-bench-")
	if err == nil {
		benchTmp = append(benchTmp, d)
	}
	return d, err
}

var benchTmp []string

func TestMain(m *testing.M) {
	code := m.Run()
	if queryEngine != nil {
		queryEngine.Close()
		queryRaw.Close()
	}
	if zenEngine != nil {
		zenEngine.Close()
	}
	for _, d := range benchTmp {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func percentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// benchShards is the shards URL option of the RepoKit index of the query
// benchmarks: REPOKIT_BENCH_SHARDS=N (default 1).
func benchShards() string {
	if n := os.Getenv("REPOKIT_BENCH_SHARDS"); n != "" {
		return "&shards=" + n
	}
	return ""
}

// BenchmarkZenodoQuery: a Zenodo-like search — two words of text, two
// filters (resource type and access), three facets (type, subtype,
// creators), sorted newest first, 25 hits with their source — through
// RepoKit's Searcher (parse, allow-list, compile, tombstone exclusion,
// cursor) and through raw bleve with the same mapping and the same query
// (baseline). One op = one search; p50/p95 reported.
func BenchmarkZenodoQuery(b *testing.B) {
	ix, raw := benchIndex(b)
	text := vocab[3] + " " + vocab[10]
	s, err := search.NewSearcher(ix, search.SearchConfig{
		Schema: search.Schema{Fields: map[string]string{"title": "title", "description": "description"}, Default: []string{"title", "description"}},
		Facets: map[string]search.FacetConfig{
			"type": {Field: "type", Size: 10}, "subtype": {Field: "subtype", Size: 10}, "creators": {Field: "creators", Size: 10},
		},
		Sorts: map[string][]search.SortField{"newest": {{Field: "created", Desc: true}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	req := func() *search.Request {
		return &search.Request{Q: text, Sort: "newest", Size: 25,
			Filters: []search.Query{search.Term{Field: "type", Value: "dataset"}, search.Term{Field: "access", Value: "open"}}}
	}
	var total uint64
	b.Run("baseline", func(b *testing.B) {
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			// query_string semantics: every word in title or description
			var words []query.Query
			for _, w := range strings.Fields(text) {
				var ms []query.Query
				for _, f := range []string{"title", "description"} {
					mq := bleve.NewMatchQuery(w)
					mq.SetField(f)
					ms = append(ms, mq)
				}
				words = append(words, bleve.NewDisjunctionQuery(ms...))
			}
			t1 := bleve.NewTermQuery("dataset")
			t1.SetField("type")
			t2 := bleve.NewTermQuery("open")
			t2.SetField("access")
			q := bleve.NewConjunctionQuery(append(words, t1, t2)...)
			r := bleve.NewSearchRequestOptions(q, 25, 0, false)
			r.SortBy([]string{"-created", "_id"})
			r.Fields = []string{blevesearch.SourceField, blevesearch.RevisionField}
			for _, f := range []string{"type", "subtype", "creators"} {
				r.AddFacet(f, bleve.NewFacetRequest(f, 10))
			}
			res, err := raw.SearchInContext(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			total = res.Total
			lat = append(lat, time.Since(t0))
		}
		percentiles(b, lat)
	})
	b.Run("repokit", func(b *testing.B) {
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			res, err := s.Search(ctx, req())
			if err != nil {
				b.Fatal(err)
			}
			if uint64(res.Total) != total || total == 0 || len(res.Facets["subtype"].Buckets) == 0 {
				b.Fatalf("repokit total %d, baseline %d", res.Total, total)
			}
			lat = append(lat, time.Since(t0))
		}
		percentiles(b, lat)
	})
}

// BenchmarkHostileQueries runs query strings a hostile or careless user can
// send through the Searcher on the benchmark index: every one must answer or
// be refused with ErrBadQuery, fast (the goal is under 2 s at 100k
// documents). One op = one search; max-ms and refused (1 = ErrBadQuery) are
// reported per pattern.
func BenchmarkHostileQueries(b *testing.B) {
	ix, _ := benchIndex(b)
	s, err := search.NewSearcher(ix, search.SearchConfig{
		Schema: search.Schema{Fields: map[string]string{"title": "title", "description": "description", "type": "type", "year": "year"},
			Default: []string{"title", "description"}},
		Facets: map[string]search.FacetConfig{"type": {Field: "type"}},
		Sorts:  map[string][]search.SortField{"bestmatch": {{Field: "_score", Desc: true}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	common := vocab[0] + " " + vocab[1]
	patterns := []struct{ name, q string }{
		{"inner-wildcards-300B", strings.Repeat("*a", 150)},
		{"leading-wildcard-x200", strings.Repeat("title:*ab ", 200)},
		{"prefix-OR-x600", strings.Repeat("a* OR ", 600) + "b"},
		{"leading-wildcard", "description:*a*"},
		{"leading-wildcard-8stars", "description:*a*e*i*o*u*y*r*"},
		{"short-prefix", "description:a*"},
		{"fuzzy-2", "description:" + vocab[5] + "~2"},
		{"fuzzy-auto-x16", strings.TrimSpace(strings.Repeat(vocab[7]+"~ ", 8))},
		{"sloppy-phrase-50", `"` + common + `"~50`},
		{"or-1000-words", strings.Join(vocab[:1000], " OR ")},
		{"nested-32", strings.Repeat("(", 32) + vocab[2] + strings.Repeat(")", 32)},
		{"exists-negated", "-title:* OR description:*"},
		{"range-open", "year:[* TO *]"},
	}
	for _, p := range patterns {
		b.Run(p.name, func(b *testing.B) {
			ctx := context.Background()
			var worst time.Duration
			refused := 0.0
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				_, err := s.Search(ctx, &search.Request{Q: p.q, Size: 10})
				if d := time.Since(t0); d > worst {
					worst = d
				}
				switch {
				case err == nil:
				case errors.Is(err, search.ErrBadQuery):
					refused = 1
				default:
					b.Fatalf("%s: %v (not ErrBadQuery)", p.name, err)
				}
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
			b.ReportMetric(refused, "refused")
		})
	}
}

// The Zenodo query mix (BenchmarkZenodoMix): the corpus, definition and
// search configuration of internal/scalebench (same vocabulary, fields and
// facets), indexed directly through Index.Bulk, so that 1M records can be
// built in minutes and kept for later runs.

// zenRecord returns the next record of g as JSON, with the id, recid and
// created (n minutes after 2015-01-01, as records arrive) that the records
// store and the dumper would add.
func zenRecord(g *zenodo.Generator) []byte {
	rec := g.Record()
	n := g.N()
	rec["id"] = zenID(n)
	rec["recid"] = strconv.Itoa(1000000 + n)
	rec["created"] = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute).Format(time.RFC3339)
	b, _ := json.Marshal(rec)
	return b
}

func zenID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// zenIndex opens the Zenodo benchmark index of benchDocs() records with
// benchShards() shards. REPOKIT_BENCH_INDEX_DIR keeps it: the index is
// built there once (zenodo-<docs>-s<shards>) and reused by later runs, as
// building 1M records takes long; without it, a temporary directory is
// used and removed.
func zenIndex(b *testing.B) (*search.Engine, *search.Index) {
	zenOnce.Do(func() { zenEngine, zenIx, zenErr = buildZenIndex(b) })
	if zenErr != nil {
		b.Fatal(zenErr)
	}
	return zenEngine, zenIx
}

var (
	zenOnce   sync.Once
	zenEngine *search.Engine
	zenIx     *search.Index
	zenErr    error
)

func buildZenIndex(b *testing.B) (*search.Engine, *search.Index, error) {
	ctx := context.Background()
	n := benchDocs()
	shards := os.Getenv("REPOKIT_BENCH_SHARDS")
	if shards == "" {
		shards = "1"
	}
	var dir string
	if root := os.Getenv("REPOKIT_BENCH_INDEX_DIR"); root != "" {
		dir = filepath.Join(root, fmt.Sprintf("zenodo-%d-s%s", n, shards))
	} else {
		tmp, err := tempDir()
		if err != nil {
			return nil, nil, err
		}
		dir = filepath.Join(tmp, "zenodo")
	}
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			return nil, nil, err
		}
		start := time.Now()
		e, err := search.Open(ctx, "bleve://"+dir+"?sync=false"+benchShards())
		if err != nil {
			return nil, nil, err
		}
		ix, err := e.CreateIndex(ctx, "records", zenodo.Definition)
		if err != nil {
			e.Close()
			return nil, nil, err
		}
		g := zenodo.NewGenerator(1)
		ops := make([]search.Op, 0, benchBatch)
		for j := 0; j < n; j++ {
			src := zenRecord(g)
			ops = append(ops, search.Op{Kind: search.OpIndex, ID: zenID(g.N()), Revision: 1, Source: src})
			if len(ops) == benchBatch || j == n-1 {
				if _, err := ix.Bulk(ctx, ops); err != nil {
					e.Close()
					return nil, nil, err
				}
				ops = ops[:0]
			}
			if (j+1)%100000 == 0 {
				b.Logf("zenodo index: %d records in %s", j+1, time.Since(start).Round(time.Second))
			}
		}
		if err := e.Close(); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(done, []byte(time.Since(start).String()+"\n"), 0o644); err != nil {
			return nil, nil, err
		}
		b.Logf("zenodo index: %d records built in %s (%s)", n, time.Since(start).Round(time.Second), dir)
	}
	e, err := search.Open(ctx, "bleve://"+dir)
	if err != nil {
		return nil, nil, err
	}
	ix, err := e.OpenIndex(ctx, "records")
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return e, ix, nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkZenodoMix runs the Zenodo query mix (mix-*: one op = one query of
// the mix, in turn) and deep cursor paging (cursor-*: one op = one page of
// REPOKIT_BENCH_PAGE_SIZE, default 20, following Results.Next through
// every open record newest first, REPOKIT_BENCH_PAGES pages deep, default
// 100, then again from the first page) through the Searcher, reporting
// p50/p95/p99 latencies, the average hits of the mix and CPU-ms per op.
//
//	REPOKIT_BENCH_DOCS=100000 REPOKIT_BENCH_INDEX_DIR=/work/scratch go test -run '^$' -bench ZenodoMix -benchtime 300x ./search/blevesearch/
func BenchmarkZenodoMix(b *testing.B) {
	e, ix := zenIndex(b)
	d, ok := e.Driver().(*blevesearch.Driver)
	if !ok {
		b.Fatalf("driver %T", e.Driver())
	}
	s, err := search.NewSearcher(ix, zenodo.SearchConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	mix := zenodo.Mix(2, 300)
	for _, path := range []string{"onepass", "multipass"} {
		b.Run("mix-"+path, func(b *testing.B) {
			blevesearch.SetMultiPass(d, path == "multipass")
			defer blevesearch.SetMultiPass(d, false)
			lat := make([]time.Duration, 0, b.N)
			var hits int64
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := s.Search(ctx, mix[i%len(mix)])
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				hits += res.Total
				if len(res.Facets) != 3 {
					b.Fatalf("%d facets", len(res.Facets))
				}
			}
			b.StopTimer()
			percentiles(b, lat)
			b.ReportMetric(float64(hits)/float64(b.N), "hits")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
	for _, path := range []string{"onepass", "multipass"} {
		b.Run("cursor-"+path, func(b *testing.B) {
			blevesearch.SetMultiPass(d, path == "multipass")
			defer blevesearch.SetMultiPass(d, false)
			size, pages := envInt("REPOKIT_BENCH_PAGE_SIZE", 20), envInt("REPOKIT_BENCH_PAGES", 100)
			lat := make([]time.Duration, 0, b.N)
			req := zenodo.Browse(size)
			page := 0
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := s.Search(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				page++
				if res.Next == "" || page == pages {
					req.After, page = "", 0
				} else {
					req.After = res.Next
				}
			}
			b.StopTimer()
			percentiles(b, lat)
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
