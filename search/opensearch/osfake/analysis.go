package osfake

import (
	"encoding/json"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"

	"github.com/repokit/repokit/search"
)

// anaSpec is what the analyzer of a text field does. The fake knows
// OpenSearch's "standard" analyzer (standard tokenizer = Unicode UAX#29
// word boundaries, lowercase, no stop words) and custom analyzers of the
// standard tokenizer with the lowercase and asciifolding filters.
type anaSpec struct {
	lower, fold bool
	// noPositions: index_options docs or freqs (no phrase queries)
	noPositions bool
}

var standardAnalyzer = anaSpec{lower: true}

// analyzersOf reads the analyzer of every text field. An analyzer the fake
// does not know is an error, as OpenSearch reports an unknown analyzer.
func analyzersOf(props map[string]any, prefix string, settings json.RawMessage, out map[string]anaSpec) *httpError {
	custom := map[string]anaSpec{}
	if len(settings) > 0 {
		type analysis struct {
			Analyzer map[string]struct {
				Type      string   `json:"type"`
				Tokenizer string   `json:"tokenizer"`
				Filter    []string `json:"filter"`
			} `json:"analyzer"`
		}
		var st struct {
			Analysis *analysis `json:"analysis"`
			Index    struct {
				Analysis *analysis `json:"analysis"`
			} `json:"index"`
		}
		_ = json.Unmarshal(settings, &st)
		for _, a := range []*analysis{st.Analysis, st.Index.Analysis} {
			if a == nil {
				continue
			}
			for n, c := range a.Analyzer {
				if c.Tokenizer != "standard" {
					return errf(400, "illegal_argument_exception", "osfake: analyzer [%s]: only the standard tokenizer is emulated", n)
				}
				var sp anaSpec
				for _, f := range c.Filter {
					switch f {
					case "lowercase":
						sp.lower = true
					case "asciifolding":
						sp.fold = true
					default:
						return errf(400, "illegal_argument_exception", "osfake: analyzer [%s]: filter [%s] is not emulated", n, f)
					}
				}
				custom[n] = sp
			}
		}
	}
	var walk func(props map[string]any, prefix string) *httpError
	walk = func(props map[string]any, prefix string) *httpError {
		for name, raw := range props {
			p, _ := raw.(map[string]any)
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			if sub, ok := p["properties"].(map[string]any); ok {
				if e := walk(sub, path); e != nil {
					return e
				}
				continue
			}
			if !isText(toString(p["type"])) {
				continue
			}
			an, _ := p["analyzer"].(string)
			sp := standardAnalyzer
			if an != "" && an != "standard" {
				var ok bool
				if sp, ok = custom[an]; !ok {
					return errf(400, "mapper_parsing_exception", "analyzer [%s] has not been configured in mappings", an)
				}
			}
			switch io, _ := p["index_options"].(string); io {
			case "docs", "freqs":
				sp.noPositions = true
			case "", "positions", "offsets":
			default:
				return errf(400, "mapper_parsing_exception", "Unknown value [%s] for field [index_options] - accepted values are [docs, freqs, positions, offsets]", io)
			}
			out[path] = sp
		}
		return nil
	}
	return walk(props, prefix)
}

type token struct {
	term string
	pos  int
}

var tokenizer = unicode.NewUnicodeTokenizer()

// analyzeTokens runs an analyzer over s: UAX#29 words, then the filters.
func analyzeTokens(sp anaSpec, s string) []token {
	var out []token
	for i, t := range tokenizer.Tokenize([]byte(s)) {
		term := string(t.Term)
		if sp.lower {
			term = strings.ToLower(term)
		}
		if sp.fold {
			term = search.FoldASCII(term)
		}
		out = append(out, token{term: term, pos: i})
	}
	return out
}

func (ix *index) analyzer(field string) anaSpec {
	if sp, ok := ix.analyzers[field]; ok {
		return sp
	}
	return standardAnalyzer
}

// terms returns the analyzed terms of a text value of field.
func (ix *index) terms(field, s string) []string {
	toks := analyzeTokens(ix.analyzer(field), s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.term
	}
	return out
}

// osaDistance is the optimal string alignment distance (Levenshtein with
// adjacent transpositions as one edit), Lucene's fuzzy distance.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// hasValue applies OpenSearch's exists rules to one value of a field: any
// non-null value, "" included (Lucene records a zero norm for a text value
// without tokens).
func (ix *index) hasValue(field string, v any) bool {
	return v != nil
}
