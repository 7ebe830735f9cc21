// Package zenodo is the Zenodo-like workload that internal/scalebench runs
// and the search benchmarks (search/blevesearch BenchmarkZenodoMix) measure:
// generated bibliographic records of about 2.5 KB of JSON, the index
// definition and search configuration of Zenodo's search page, and its
// query mix. One copy, so that the figures of both measure the same thing.
package zenodo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/repokit/repokit/search"
)

// Words is the vocabulary of titles, descriptions and queries (Zipf-like
// use: earlier words are picked more often).
var Words = strings.Fields(`data climate model ocean temperature analysis dataset neural network learning
protein structure genome sequencing particle physics detector collision energy simulation software release
survey population health covid vaccine trial species biodiversity forest soil carbon emission satellite
image remote sensing galaxy star cosmic radiation quantum material graphene battery solar wind turbine
river flood drought rainfall urban transport mobility language corpus speech translation archive museum
history manuscript music education student teacher economic policy market finance code workflow pipeline
benchmark evaluation measurement sensor network wireless robot control optimisation algorithm graph`)

// ResourceTypes are the values of resource_type.type; the query mix
// selects one of the first three.
var ResourceTypes = []string{"publication", "dataset", "software", "image", "poster", "presentation", "video", "other"}

var (
	accessRights = []string{"open", "open", "open", "embargoed", "restricted", "closed"}
	communities  = []string{"zenodo", "eu", "covid-19", "biosyslit", "astronomy", "ecfunded", "openaire", "dryad", "lory", "cern"}
	firstNames   = []string{"Maria", "Jan", "Wei", "Aisha", "Lars", "Sofia", "Ahmed", "Yuki", "Elena", "Pedro", "Anna", "Kwame"}
	lastNames    = []string{"Garcia", "Nowak", "Zhang", "Okafor", "Jensen", "Rossi", "Hassan", "Tanaka", "Petrova", "Silva", "Smith", "Mensah"}
	affiliations = []string{"CERN", "University of Oslo", "ETH Zurich", "Tsinghua University", "University of Lagos", "INRIA", "MIT", "Max Planck Institute"}
)

// Generator makes records; the same seed gives the same records.
type Generator struct {
	r *rand.Rand
	n int
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed+1))}
}

// N is the number of records generated so far (the last record's number).
func (g *Generator) N() int { return g.n }

func (g *Generator) word() string {
	// squared uniform: a skewed (Zipf-like) word frequency
	f := g.r.Float64()
	return Words[int(f*f*float64(len(Words)))]
}

func (g *Generator) sentence(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.word())
	}
	return b.String()
}

// Record returns the next bibliographic record: about 2.4 KB of JSON with
// title, creators (with affiliation and ORCID), a description of 1.2–1.8
// KB, keywords, publication_date (10% year only and 10% year-month),
// resource_type, access_right, communities, DOI, grants and related
// identifiers.
func (g *Generator) Record() map[string]any {
	g.n++
	r := g.r
	creators := make([]map[string]any, 1+r.IntN(5))
	for i := range creators {
		creators[i] = map[string]any{
			"name":        lastNames[r.IntN(len(lastNames))] + ", " + firstNames[r.IntN(len(firstNames))],
			"affiliation": affiliations[r.IntN(len(affiliations))],
			"orcid":       fmt.Sprintf("0000-000%d-%04d-%04d", r.IntN(10), r.IntN(10000), r.IntN(10000)),
		}
	}
	var date string
	y := 1990 + r.IntN(36)
	switch r.IntN(10) {
	case 0:
		date = fmt.Sprint(y) // partial: year only
	case 1:
		date = fmt.Sprintf("%d-%02d", y, 1+r.IntN(12)) // partial: year and month
	default:
		date = fmt.Sprintf("%d-%02d-%02d", y, 1+r.IntN(12), 1+r.IntN(28))
	}
	kw := make([]string, 2+r.IntN(5))
	for i := range kw {
		kw[i] = g.word()
	}
	comms := make([]string, r.IntN(3))
	for i := range comms {
		comms[i] = communities[r.IntN(len(communities))]
	}
	var desc strings.Builder
	for desc.Len() < 1200+r.IntN(600) {
		desc.WriteString(strings.ToUpper(g.word()[:1]))
		desc.WriteString(g.sentence(12 + r.IntN(10))[1:])
		desc.WriteString(". ")
	}
	return map[string]any{
		"title":            strings.ToUpper(g.word()[:1]) + g.sentence(6 + r.IntN(8))[1:],
		"creators":         creators,
		"description":      desc.String(),
		"keywords":         kw,
		"publication_date": date,
		"resource_type":    map[string]any{"type": ResourceTypes[r.IntN(len(ResourceTypes))]},
		"access_right":     accessRights[r.IntN(len(accessRights))],
		"communities":      comms,
		"doi":              fmt.Sprintf("10.5281/zenodo.%d", 1000000+g.n),
		"license":          "cc-by-4.0",
		"language":         "eng",
		"version":          fmt.Sprintf("%d.%d", 1+r.IntN(3), r.IntN(10)),
		"related_identifiers": []map[string]any{
			{"identifier": fmt.Sprintf("10.1234/journal.%d", r.IntN(1000000)), "relation": "isSupplementTo", "scheme": "doi"},
			{"identifier": fmt.Sprintf("https://github.com/org%d/repo%d/tree/v1.%d", r.IntN(1000), r.IntN(1000), r.IntN(20)), "relation": "isSupplementTo", "scheme": "url"},
		},
		"grants": []map[string]any{{"id": fmt.Sprintf("10.13039/501100000780::%d", 100000+r.IntN(900000)), "funder": "European Commission"}},
	}
}

// Definition indexes what Zenodo's search and facets use. The description
// (1.2–1.8 KB of text) is indexed without positions (index_options freqs):
// its words are found and scored, phrase queries on it are refused (they
// work on the title); positions made indexing about a quarter slower
// (BenchmarkMappingCosts).
var Definition = search.Definition{Mappings: json.RawMessage(`{
  "dynamic": false,
  "properties": {
    "id": {"type": "keyword"},
    "created": {"type": "date"},
    "recid": {"type": "keyword"},
    "title": {"type": "text"},
    "description": {"type": "text", "index_options": "freqs"},
    "creators": {"properties": {"name": {"type": "text"}, "affiliation": {"type": "text"}}},
    "keywords": {"type": "keyword"},
    "resource_type": {"properties": {"type": {"type": "keyword"}}},
    "access_right": {"type": "keyword"},
    "communities": {"type": "keyword"},
    "publication_date": {"type": "keyword"},
    "doi": {"type": "keyword"}
  }
}`), Settings: json.RawMessage(`{"number_of_shards": 1, "number_of_replicas": 0}`)}

// SearchConfig is the search page's configuration: free text over title,
// description and creators, 3 facets, sorts by relevance and newest.
func SearchConfig() search.SearchConfig {
	return search.SearchConfig{
		Schema: search.Schema{
			Fields:  map[string]string{"title": "title", "description": "description", "creators": "creators.name", "keywords": "keywords"},
			Default: []string{"title", "description", "creators.name"},
		},
		Facets: map[string]search.FacetConfig{
			"resource_type": {Field: "resource_type.type", Size: 10},
			"access_right":  {Field: "access_right", Size: 4},
			"communities":   {Field: "communities", Size: 10},
		},
		Sorts: map[string][]search.SortField{
			"bestmatch": {{Field: "_score", Desc: true}},
			"newest":    {{Field: "created", Desc: true}},
		},
		MaxSize: 100,
	}
}

// Mix returns k requests of the query mix, the same for the same seed: two
// words of free text, newest first, 20 hits, the 3 facets; every other
// query also selects two facet values (a resource type and open access).
func Mix(seed uint64, k int) []*search.Request {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]*search.Request, k)
	for i := range out {
		r := &search.Request{Q: Words[rng.IntN(len(Words))] + " " + Words[rng.IntN(len(Words))], Sort: "newest", Size: 20}
		if i%2 == 0 {
			r.Facets = map[string][]string{"resource_type": {ResourceTypes[rng.IntN(3)]}, "access_right": {"open"}}
		}
		out[i] = r
	}
	return out
}

// Browse is the first page of the broad result that cursor paging follows
// (every open record, newest first), with size hits per page.
func Browse(size int) *search.Request {
	return &search.Request{Sort: "newest", Size: size, Facets: map[string][]string{"access_right": {"open"}}}
}
