package search_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/opensearch"
)

var testSchema = &search.Schema{
	Fields:  map[string]string{"title": "metadata.title", "type": "resource_type", "year": "pub_year", "date": "created", "open": "is_open", "fold": "folded"},
	Default: []string{"metadata.title", "description"},
	Types: map[string]search.FieldType{"metadata.title": search.Text, "description": search.Text, "resource_type": search.Keyword,
		"pub_year": search.Number, "created": search.Date, "is_open": search.Boolean, "folded": search.Text},
	Analysis: map[string]search.Field{"folded": {Analyzer: "folding", Lowercase: true, Fold: true}},
	Now:      func() time.Time { return time.Date(2026, 11, 29, 13, 14, 15, 0, time.UTC) },
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
		{"date:2020", search.Range{Field: "created", Kind: search.Date, From: "2020-01-01T00:00:00.000Z", To: "2020-01-01T23:59:59.999Z", IncludeFrom: true, IncludeTo: true}},
		{"date:2016||/y", search.Range{Field: "created", Kind: search.Date, From: "2016-01-01T00:00:00.000Z", To: "2016-12-31T23:59:59.999Z", IncludeFrom: true, IncludeTo: true}},
		{"date:[2017 TO 2018]", search.Range{Field: "created", Kind: search.Date, From: "2017-01-01T00:00:00.000Z", To: "2018-01-01T23:59:59.999Z", IncludeFrom: true, IncludeTo: true}},
		{"date:{2017 TO 2018}", search.Range{Field: "created", Kind: search.Date, From: "2017-01-01T23:59:59.999Z", To: "2018-01-01T00:00:00.000Z"}},
		{"date:[2014-11-18||/M TO 2014-11-18||/M]", search.Range{Field: "created", Kind: search.Date, From: "2014-11-01T00:00:00.000Z", To: "2014-11-30T23:59:59.999Z", IncludeFrom: true, IncludeTo: true}},
		{"date:{2014-11-18||/M TO 2014-11-18||/M}", search.Range{Field: "created", Kind: search.Date, From: "2014-11-30T23:59:59.999Z", To: "2014-11-01T00:00:00.000Z"}},
		{"date:>=now-1y/y", search.Range{Field: "created", Kind: search.Date, From: "2025-01-01T00:00:00.000Z", IncludeFrom: true}},
		{"date:>now-1y/y", search.Range{Field: "created", Kind: search.Date, From: "2025-12-31T23:59:59.999Z"}},
		{"date:<now/d", search.Range{Field: "created", Kind: search.Date, To: "2026-11-29T00:00:00.000Z"}},
		{"date:<=2012-05", search.Range{Field: "created", Kind: search.Date, To: "2012-05-01T23:59:59.999Z", IncludeTo: true}},
		{"date:>=1420070400000", search.Range{Field: "created", Kind: search.Date, From: "2015-01-01T00:00:00.000Z", IncludeFrom: true}},
		{"year:>1000000", search.Range{Field: "pub_year", Kind: search.Number, From: "1e+06"}},
		{"year:>=10", search.Range{Field: "pub_year", Kind: search.Number, From: "10", IncludeFrom: true}},
		{"year:<10", search.Range{Field: "pub_year", Kind: search.Number, To: "10"}},
		{"year:<=10", search.Range{Field: "pub_year", Kind: search.Number, To: "10", IncludeTo: true}},
		{"type:>m", search.Range{Field: "resource_type", Kind: search.Keyword, From: "m"}},
		{"title:*", search.Exists{Field: "metadata.title"}},
		{"_exists_:type", search.Exists{Field: "resource_type"}},
		{"-type:*", search.Bool{Must: []search.Query{search.MatchAll{}}, MustNot: []search.Query{search.Exists{Field: "resource_type"}}}},
		{"*", search.MatchAll{}},
		{"title:Dark~", search.Fuzzy{Field: "metadata.title", Value: "dark", Fuzziness: 1}},
		{"title:ab~", search.Fuzzy{Field: "metadata.title", Value: "ab", Fuzziness: 0}},
		{"title:quantum~1", search.Fuzzy{Field: "metadata.title", Value: "quantum", Fuzziness: 1}},
		{"type:Data~2", search.Fuzzy{Field: "resource_type", Value: "Data", Fuzziness: 2}},
		{"dark~", search.Bool{Should: []search.Query{search.Fuzzy{Field: "metadata.title", Value: "dark", Fuzziness: 1}, search.Fuzzy{Field: "description", Value: "dark", Fuzziness: 1}}}},
		{`"dark matter"~2`, search.Phrase{Fields: def, Text: "dark matter", Slop: 2}},
		{`title:"dark matter"~3^2`, search.Boost{Query: search.Phrase{Field: "metadata.title", Text: "dark matter", Slop: 3}, Factor: 2}},
		{"title:dark^2", search.Boost{Query: search.Match{Field: "metadata.title", Text: "dark"}, Factor: 2}},
		{"(a OR b)^3", search.Boost{Query: search.Bool{Should: []search.Query{search.Match{Fields: def, Text: "a"}, search.Match{Fields: def, Text: "b"}}}, Factor: 3}},
		{"type:(a OR b)^0.5", search.Boost{Query: search.Bool{Should: []search.Query{search.Term{Field: "resource_type", Value: "a"}, search.Term{Field: "resource_type", Value: "b"}}}, Factor: 0.5}},
		{"title:Mül*", search.Prefix{Field: "metadata.title", Value: "mül"}},
		{"fold:Mül*", search.Prefix{Field: "folded", Value: "mul"}},
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
		{"title:a~3", 7, "fuzziness"},
		{"title:a~x", 7, "whole number"},
		{"title:a^2x", 7, "whole number"},
		{"a^", 1, "boost"},
		{"year:a*", 5, "wildcards only"},
		{"year:>x", 6, "not a number"},
		{"date:>2012-13", 6, "invalid date"},
		{"date:now-1q", 5, "unknown unit"},
		{"title:>a", 6, "only works on number"},
		{"_exists_:secret", 9, "not searchable"},
		{"year:abc~", 5, "fuzzy terms only"},
		{"title:" + strings.Repeat("*a", 20), 6, "wildcards in one term"},
		{strings.Repeat("a* OR ", 20) + "b", 48, "too many wildcard"},
		{strings.Repeat("title:*ab ", 200), 166, "too many wildcard"},
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
		"date:2020-01", "+a -b !c", "year:{* TO *]", "x:", ":", "a OR", "&&||", `type:"\"`, "open:true", "\x00\xff",
		"title:*", "_exists_:type", "-type:*", "dark~", "title:ab~1", `"a b"~2^3`, "(a b)^0.5", "year:>=10", "date:<now-1y/y",
		"date:[2016||/y TO now+1d/d}", "~", "^", "a~^", "date:>1420070400000", "title:*a*b?c"} {
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
