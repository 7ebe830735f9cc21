package search_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/opensearch"
)

var testSchema = &search.Schema{
	Fields:  map[string]string{"title": "metadata.title", "type": "resource_type", "year": "pub_year", "date": "created", "open": "is_open"},
	Default: []string{"metadata.title", "description"},
	Types: map[string]search.FieldType{"metadata.title": search.Text, "description": search.Text, "resource_type": search.Keyword,
		"pub_year": search.Number, "created": search.Date, "is_open": search.Boolean},
}

func TestParse(t *testing.T) {
	def := []string{"metadata.title", "description"}
	for _, c := range []struct {
		q    string
		want search.Query
	}{
		{"", search.MatchAll{}},
		{"  ", search.MatchAll{}},
		{"dark matter", search.Bool{Must: []search.Query{search.Match{Fields: def, Text: "dark"}, search.Match{Fields: def, Text: "matter"}}}},
		{`"dark matter"`, search.Phrase{Fields: def, Text: "dark matter"}},
		{"title:dark", search.Match{Field: "metadata.title", Text: "dark"}},
		{"type:dataset", search.Term{Field: "resource_type", Value: "dataset"}},
		{`type:"image photo"`, search.Term{Field: "resource_type", Value: "image photo"}},
		{"a OR b", search.Bool{Should: []search.Query{search.Match{Fields: def, Text: "a"}, search.Match{Fields: def, Text: "b"}}}},
		{"a || b && c", search.Bool{Should: []search.Query{search.Match{Fields: def, Text: "a"},
			search.Bool{Must: []search.Query{search.Match{Fields: def, Text: "b"}, search.Match{Fields: def, Text: "c"}}}}}},
		{"NOT a", search.Bool{Must: []search.Query{search.MatchAll{}}, MustNot: []search.Query{search.Match{Fields: def, Text: "a"}}}},
		{"+a -type:x", search.Bool{Must: []search.Query{search.Match{Fields: def, Text: "a"}}, MustNot: []search.Query{search.Term{Field: "resource_type", Value: "x"}}}},
		{"year:[2000 TO 2010}", search.Range{Field: "pub_year", Kind: search.Number, From: "2000", To: "2010", IncludeFrom: true}},
		{"year:{* TO 2010]", search.Range{Field: "pub_year", Kind: search.Number, To: "2010", IncludeTo: true}},
		{"type:[a TO m]", search.Range{Field: "resource_type", Kind: search.Keyword, From: "a", To: "m", IncludeFrom: true, IncludeTo: true}},
		{"date:2020", search.Range{Field: "created", Kind: search.Date, From: "2020-01-01T00:00:00Z", To: "2021-01-01T00:00:00Z", IncludeFrom: true}},
		{"year:2004", search.Range{Field: "pub_year", Kind: search.Number, From: "2004", To: "2004", IncludeFrom: true, IncludeTo: true}},
		{"type:data*", search.Prefix{Field: "resource_type", Value: "data"}},
		{"type:d?t*", search.Wildcard{Field: "resource_type", Pattern: "d?t*"}},
		{"title:Dar*", search.Prefix{Field: "metadata.title", Value: "dar"}},
		{`type:a\*b`, search.Term{Field: "resource_type", Value: "a*b"}},
		{`type:a\:b`, search.Term{Field: "resource_type", Value: "a:b"}},
		{"type:(a OR b)", search.Bool{Should: []search.Query{search.Term{Field: "resource_type", Value: "a"}, search.Term{Field: "resource_type", Value: "b"}}}},
		{"open:TRUE", search.Term{Field: "is_open", Value: "true"}},
		{"2020-01-01", search.Match{Fields: def, Text: "2020-01-01"}},
		{"a-b", search.Match{Fields: def, Text: "a-b"}},
		{"TO", search.Match{Fields: def, Text: "TO"}},
	} {
		got, err := search.Parse(c.q, testSchema)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q)\n got %#v\nwant %#v", c.q, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		q   string
		pos int
		msg string
	}{
		{"secret:x", 0, "not searchable"},
		{"(a", 2, "expected )"},
		{"a)", 1, "unexpected"},
		{`"abc`, 0, "unterminated"},
		{"a AND", 5, "right operand"},
		{"AND a", 0, "left operand"},
		{"year:x", 5, "not a number"},
		{"year:[1 TO x]", 11, "not a number"},
		{"year:[1 2]", 8, "expected TO"},
		{"title:[a TO b]", 6, "ranges only"},
		{"[a TO b]", 0, "needs a field"},
		{"type:(x:y)", 6, "field inside"},
		{`a\`, 1, "dangling escape"},
		{"date:2020-13-45", 5, "invalid date"},
		{"open:maybe", 5, "boolean"},
		{strings.Repeat("(", 40) + "a" + strings.Repeat(")", 40), 33, "nested too deeply"},
		{strings.Repeat("x", search.MaxQueryLength+1), search.MaxQueryLength, "longer"},
	} {
		_, err := search.Parse(c.q, testSchema)
		var qe *search.QueryError
		if !errors.Is(err, search.ErrBadQuery) || !errors.As(err, &qe) {
			t.Errorf("Parse(%q): %v, want ErrBadQuery", c.q, err)
			continue
		}
		if qe.Pos != c.pos || !strings.Contains(qe.Msg, c.msg) {
			t.Errorf("Parse(%q): pos %d msg %q, want pos %d msg ~%q", c.q, qe.Pos, qe.Msg, c.pos, c.msg)
		}
	}
}

// FuzzParse: the parser never panics, errors are ErrBadQuery with a position
// inside the query, and every parsed query compiles to the OpenSearch DSL.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a", `"a b"`, "title:x AND (type:y OR -year:[1 TO 2})", "a\\", "type:d?t*", "((((",
		"date:2020-01", "+a -b !c", "year:{* TO *]", "x:", ":", "a OR", "&&||", `type:"\"`, "open:true", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := search.Parse(q, testSchema)
		if err != nil {
			var qe *search.QueryError
			if !errors.Is(err, search.ErrBadQuery) || !errors.As(err, &qe) {
				t.Fatalf("Parse(%q): error %v is not a *QueryError", q, err)
			}
			if qe.Pos < 0 || qe.Pos > len(q) {
				t.Fatalf("Parse(%q): position %d outside the query", q, qe.Pos)
			}
			return
		}
		dsl, err := opensearch.Compile(got)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v does not compile: %v", q, got, err)
		}
		if _, err := json.Marshal(dsl); err != nil {
			t.Fatalf("Parse(%q): DSL does not marshal: %v", q, err)
		}
	})
}
