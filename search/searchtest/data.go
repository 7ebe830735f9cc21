package searchtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/repokit/repokit/search"
)

// TestDefinition is the index definition the suite uses.
var TestDefinition = search.Definition{Mappings: json.RawMessage(`{
  "dynamic": false,
  "properties": {
    "id": {"type": "keyword"},
    "title": {"type": "text"},
    "description": {"type": "text", "index_options": "freqs"},
    "type": {"type": "keyword"},
    "subtype": {"type": "keyword"},
    "access": {"type": "keyword"},
    "year": {"type": "integer"},
    "open": {"type": "boolean"},
    "created": {"type": "date"},
    "metadata": {"properties": {"creator": {"type": "keyword"}, "secret": {"type": "keyword"}}}
  }
}`), Settings: json.RawMessage(`{"number_of_shards": 1, "number_of_replicas": 0}`)}

// TestDoc is one seed document.
type TestDoc struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Desc     string    `json:"description"`
	Type     string    `json:"type"`
	Subtype  string    `json:"subtype"`
	Access   string    `json:"access"`
	Year     int       `json:"year"`
	Open     bool      `json:"open"`
	Created  time.Time `json:"created"`
	Metadata struct {
		Creator string `json:"creator"`
		Secret  string `json:"secret"`
	} `json:"metadata"`
}

var (
	words    = []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
	types    = []string{"publication", "dataset", "software"}
	subtypes = map[string][]string{"publication": {"article", "book", "thesis"}, "dataset": {"tabular"}, "software": {"library", "tool"}}
)

// SeedDocs returns n deterministic documents.
func SeedDocs(n int) []TestDoc {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]TestDoc, n)
	for i := range out {
		t := types[i%3]
		st := subtypes[t][(i/3)%len(subtypes[t])]
		d := TestDoc{
			ID:      fmt.Sprintf("doc-%03d", i),
			Title:   fmt.Sprintf("%s %s report %d", strings.ToUpper(words[i%6][:1])+words[i%6][1:], words[(i/6)%6], i),
			Desc:    "about " + words[(i+1)%6],
			Type:    t,
			Subtype: st,
			Access:  []string{"public", "public", "restricted", "public", "restricted"}[i%5],
			Year:    2000 + i%10,
			Open:    i%2 == 0,
			Created: base.Add(time.Duration(i) * 36 * time.Hour),
		}
		d.Metadata.Creator = fmt.Sprintf("creator-%d", i%4)
		d.Metadata.Secret = "s3cret"
		out[i] = d
	}
	return out
}

// Source returns the JSON of d.
func (d TestDoc) Source() json.RawMessage {
	b, _ := json.Marshal(d)
	return b
}
