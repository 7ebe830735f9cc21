package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// words is the vocabulary of titles, descriptions and queries (Zipf-like
// use: earlier words are picked more often).
var words = strings.Fields(`data climate model ocean temperature analysis dataset neural network learning
protein structure genome sequencing particle physics detector collision energy simulation software release
survey population health covid vaccine trial species biodiversity forest soil carbon emission satellite
image remote sensing galaxy star cosmic radiation quantum material graphene battery solar wind turbine
river flood drought rainfall urban transport mobility language corpus speech translation archive museum
history manuscript music education student teacher economic policy market finance code workflow pipeline
benchmark evaluation measurement sensor network wireless robot control optimisation algorithm graph`)

var (
	resourceTypes = []string{"publication", "dataset", "software", "image", "poster", "presentation", "video", "other"}
	accessRights  = []string{"open", "open", "open", "embargoed", "restricted", "closed"}
	communities   = []string{"zenodo", "eu", "covid-19", "biosyslit", "astronomy", "ecfunded", "openaire", "dryad", "lory", "cern"}
	firstNames    = []string{"Maria", "Jan", "Wei", "Aisha", "Lars", "Sofia", "Ahmed", "Yuki", "Elena", "Pedro", "Anna", "Kwame"}
	lastNames     = []string{"Garcia", "Nowak", "Zhang", "Okafor", "Jensen", "Rossi", "Hassan", "Tanaka", "Petrova", "Silva", "Smith", "Mensah"}
	affiliations  = []string{"CERN", "University of Oslo", "ETH Zurich", "Tsinghua University", "University of Lagos", "INRIA", "MIT", "Max Planck Institute"}
)

type generator struct {
	r *rand.Rand
	n int
}

func newGenerator(seed uint64) *generator { return &generator{r: rand.New(rand.NewPCG(seed, seed+1))} }

func (g *generator) word() string {
	// squared uniform: a skewed (Zipf-like) word frequency
	f := g.r.Float64()
	return words[int(f*f*float64(len(words)))]
}

func (g *generator) sentence(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.word())
	}
	return b.String()
}

// record returns one bibliographic record of about 2.5 KB of JSON.
func (g *generator) record() map[string]any {
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
		"resource_type":    map[string]any{"type": resourceTypes[r.IntN(len(resourceTypes))]},
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
