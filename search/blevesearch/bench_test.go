package blevesearch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
)

// benchDocs returns the number of documents for the benchmarks:
// REPOKIT_BENCH_DOCS, default 5000 (the reported figures use 50000).
func benchDocs() int {
	if n, err := strconv.Atoi(os.Getenv("REPOKIT_BENCH_DOCS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// benchDef is a Zenodo-like index definition as an application ships it:
// the long description is indexed without positions (index_options freqs:
// words are found and scored, phrase queries on it are refused), the title
// with positions.
var benchDef = search.Definition{Mappings: json.RawMessage(`{"properties": {
  "id": {"type": "keyword"}, "revision": {"type": "long"},
  "created": {"type": "date"}, "updated": {"type": "date"},
  "title": {"type": "text"}, "description": {"type": "text", "index_options": "freqs"},
  "type": {"type": "keyword"}, "subtype": {"type": "keyword"},
  "creators": {"type": "keyword"}, "keywords": {"type": "keyword"},
  "year": {"type": "integer"}, "access": {"type": "keyword"}}}`)}

var vocab = func() []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, 2000)
	for i := range out {
		n := 3 + r.IntN(7)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		out[i] = string(b)
	}
	return out
}()

// makeDocs returns n JSON documents of about 2.5 KB.
func makeDocs(n int) [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	words := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			// Zipf-ish: favour the first words
			ws[i] = vocab[int(float64(len(vocab))*r.Float64()*r.Float64())]
		}
		return strings.Join(ws, " ")
	}
	types := []string{"publication", "dataset", "software", "image", "video", "poster"}
	out := make([][]byte, n)
	for i := range out {
		d := map[string]any{
			"id":          fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
			"revision":    1,
			"created":     time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
			"updated":     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
			"title":       words(8),
			"description": words(280),
			"type":        types[r.IntN(len(types))],
			"subtype":     fmt.Sprintf("sub%d", r.IntN(12)),
			"creators":    []string{fmt.Sprintf("creator-%d", r.IntN(500)), fmt.Sprintf("creator-%d", r.IntN(500))},
			"keywords":    []string{vocab[r.IntN(50)], vocab[r.IntN(50)], vocab[r.IntN(50)]},
			"year":        2000 + r.IntN(25),
			"access":      []string{"open", "restricted", "embargoed"}[r.IntN(3)],
			"notes":       words(20), // not mapped
		}
		out[i], _ = json.Marshal(d)
	}
	return out
}

const benchBatch = 500

// rawIndex indexes docs into a fresh bleve index with mapping m, in raw
// bleve batches; withSource adds the stored source and revision fields the
// RepoKit mapping declares.
func rawIndex(b *testing.B, dir string, m mapping.IndexMapping, docs [][]byte, withSource bool) bleve.Index {
	idx, err := bleve.New(dir, m)
	if err != nil {
		b.Fatal(err)
	}
	batch := idx.NewBatch()
	for i, src := range docs {
		var d map[string]any
		if err := json.Unmarshal(src, &d); err != nil {
			b.Fatal(err)
		}
		if withSource {
			d[blevesearch.SourceField] = string(src)
			d[blevesearch.RevisionField] = float64(1)
		}
		if err := batch.Index(d["id"].(string), d); err != nil {
			b.Fatal(err)
		}
		if batch.Size() == benchBatch || i == len(docs)-1 {
			if err := idx.Batch(batch); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
	return idx
}

// BenchmarkBulkIndex indexes the same ~2.5 KB documents with the same
// mapping (the one RepoKit derives) through raw bleve batches (baseline) and
// through RepoKit's bulk path, Index.Bulk: source validation, revision checks
// and version keys (repokit). One op = all documents into a fresh index.
func BenchmarkBulkIndex(b *testing.B) {
	docs := makeDocs(benchDocs())
	m, err := blevesearch.Mapping(benchDef)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			idx := rawIndex(b, filepath.Join(b.TempDir(), "raw"), m, docs, true)
			idx.Close()
		}
		b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("repokit", func(b *testing.B) {
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			e, err := search.Open(ctx, "bleve://"+b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			ix, err := e.CreateIndex(ctx, "bench", benchDef)
			if err != nil {
				b.Fatal(err)
			}
			ops := make([]search.Op, 0, benchBatch)
			for j, src := range docs {
				ops = append(ops, search.Op{Kind: search.OpIndex, ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", j), Revision: 1, Source: src})
				if len(ops) == benchBatch || j == len(docs)-1 {
					rs, err := ix.Bulk(ctx, ops)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range rs {
						if r.Status != search.Applied {
							b.Fatalf("%s: %v %s", r.ID, r.Status, r.Reason)
						}
					}
					ops = ops[:0]
				}
			}
			e.Close()
		}
		b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
	})
}

// BenchmarkMappings compares bleve's default mapping (dynamic, every field
// stored with term vectors and in _all) with the mapping RepoKit derives:
// indexing throughput (docs/s, raw batches, reported once) and the p50 of a
// 3-term query with 3 facets (one op = one query).
func BenchmarkMappings(b *testing.B) {
	docs := makeDocs(benchDocs())
	ours, err := blevesearch.Mapping(benchDef)
	if err != nil {
		b.Fatal(err)
	}
	q := vocab[3] + " " + vocab[10] + " " + vocab[40]
	for _, c := range []struct {
		name string
		m    mapping.IndexMapping
		src  bool
	}{{"default", bleve.NewIndexMapping(), false}, {"repokit", ours, true}} {
		b.Run(c.name, func(b *testing.B) {
			start, cpu0 := time.Now(), cpuTime()
			idx := rawIndex(b, filepath.Join(b.TempDir(), c.name), c.m, docs, c.src)
			defer idx.Close()
			rate := float64(len(docs)) / time.Since(start).Seconds()
			cpuRate := 0.0
			if cpu := cpuTime() - cpu0; cpu > 0 {
				cpuRate = float64(len(docs)) / cpu.Seconds()
			}
			mq := bleve.NewMatchQuery(q)
			mq.SetField("description")
			req := bleve.NewSearchRequestOptions(mq, 25, 0, false)
			for _, f := range []string{"type", "subtype", "creators"} {
				req.AddFacet(f, bleve.NewFacetRequest(f, 10))
			}
			if c.src {
				req.Fields = []string{blevesearch.SourceField}
			} else {
				req.Fields = []string{"*"}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := idx.Search(req)
				if err != nil {
					b.Fatal(err)
				}
				if res.Total == 0 || len(res.Facets["type"].Terms.Terms()) == 0 {
					b.Fatalf("query found nothing: %d", res.Total)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(rate, "index-docs/s")
			b.ReportMetric(cpuRate, "index-docs/cpu-s")
		})
	}
}

// BenchmarkMappingCosts shows what the shipped mapping's indexing time is
// spent on: the same documents through the shipped mapping, then with term
// positions on the description, with bleve's unicode tokenizer instead of
// the fast ASCII path, without the stored _source, without doc values for
// sorting and facets, and bleve's default mapping. One op = all documents into a
// fresh index; docs per CPU second reported (less distorted by a loaded
// machine than wall time).
func BenchmarkMappingCosts(b *testing.B) {
	docs := makeDocs(benchDocs())
	variants := []struct {
		name string
		edit func(*mapping.IndexMappingImpl)
		src  bool
	}{
		{"shipped", nil, true},
		{"description-positions", func(m *mapping.IndexMappingImpl) {
			m.DefaultMapping.Properties["description"].Fields[0].IncludeTermVectors = true
		}, true},
		{"unicode-tokenizer", func(m *mapping.IndexMappingImpl) {
			// analyzers are built when defined: rebuild from JSON
			j, err := json.Marshal(m)
			if err != nil {
				b.Fatal(err)
			}
			j = []byte(strings.ReplaceAll(string(j), `"tokenizer":"repokit_words"`, `"tokenizer":"unicode"`))
			*m = mapping.IndexMappingImpl{}
			if err := json.Unmarshal(j, m); err != nil {
				b.Fatal(err)
			}
		}, true},
		{"no-source", nil, false},
		{"no-docvalues", func(m *mapping.IndexMappingImpl) {
			for _, p := range m.DefaultMapping.Properties {
				for _, f := range p.Fields {
					f.DocValues = false
				}
			}
		}, true},
		{"bleve-default", nil, false},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			var m mapping.IndexMapping
			if v.name == "bleve-default" {
				m = bleve.NewIndexMapping()
			} else {
				im, err := blevesearch.Mapping(benchDef)
				if err != nil {
					b.Fatal(err)
				}
				if v.edit != nil {
					v.edit(im)
				}
				m = im
			}
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				idx := rawIndex(b, filepath.Join(b.TempDir(), "x"), m, docs, v.src)
				idx.Close()
			}
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(len(docs)*b.N)/cpu.Seconds(), "docs/cpu-s")
			}
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
