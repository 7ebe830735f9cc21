package records

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var validJSONSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12E+4`, `true`, `false`, `null`, ` {"a" : [1, {"b": null}] } `,
	`{"s": "\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"}`, `{"é": "ü", "k": "日本"}`, "{\"s\": \"\xff\"}",
	"{\"s\": \"\xed\xa0\x80\"}", "\"\xc3\"", "{\"a\":1}\n", `{"a":1}{"b":2}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`,
	`{"a" 1}`, `{"a":}`, `{1: 2}`, `01`, `1.`, `.5`, `1e`, `1e+`, `-`, `--1`, `+1`, `tru`, `nul`, `truex`, `"\x"`,
	`"\u12"`, `"\u12G4"`, "\"a\tb\"", "\"a\x00b\"", `"abc`, `[`, `{`, `{"a":[}`, `[1 2]`, "\xef\xbb\xbf{}", "{}\x00",
	`{"a":1e400}`, `[-0.0e0]`, "\u2028", `{"$schema": "x"}`, "{\"a\": \"\x7f\"}", "  ", ``,
	strings.Repeat("[", 999) + strings.Repeat("]", 999), strings.Repeat("[", 1000) + strings.Repeat("]", 1000),
	strings.Repeat("[", 1001) + strings.Repeat("]", 1001), strings.Repeat(`{"a":`, 1200) + "1" + strings.Repeat("}", 1200),
}

// checkValidJSON: validJSON never accepts what json.Valid or utf8.Valid
// refuses, and refuses what they both accept only beyond its nesting bound.
func checkValidJSON(t *testing.T, doc []byte) {
	t.Helper()
	got, want := validJSON(doc), json.Valid(doc) && utf8.Valid(doc)
	if got && !want {
		t.Fatalf("validJSON(%q) = true; json.Valid %v, utf8.Valid %v", doc, json.Valid(doc), utf8.Valid(doc))
	}
	if !got && want && bytes.Count(doc, []byte("["))+bytes.Count(doc, []byte("{")) <= fastValidDepth {
		t.Fatalf("validJSON(%q) = false, but it is valid JSON and UTF-8", doc)
	}
}

func TestValidJSON(t *testing.T) {
	for _, s := range validJSONSeeds {
		checkValidJSON(t, []byte(s))
	}
	// Every prefix of valid documents (truncated input must never pass).
	for _, s := range []string{`{"a": [1, -2.5e+3, true, false, null, "x\u00e9\n"], "b": {"c": {}}}`, `{"k": "日本"}`} {
		for i := range len(s) + 1 {
			checkValidJSON(t, []byte(s[:i]))
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkValidJSON(t, doc) })
}

// BenchmarkValidJSON: the one-pass check against json.Valid + utf8.Valid
// on a ~1 KiB record.
func BenchmarkValidJSON(b *testing.B) {
	doc := []byte(`{"title": "On the electrodynamics of moving bodies", "creators": [{"name": "Einstein, Albert", "affiliation": "Patent Office, Bern"}],
"publication_date": "1905-06-30", "description": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.",
"keywords": ["relativity", "électrodynamique", "physics"], "numbers": [1, -2.5, 3e10, 0.001], "open": true, "license": null}`)
	if !validJSON(doc) {
		b.Fatal("benchmark document refused")
	}
	b.Run("baseline", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if !json.Valid(doc) || !utf8.Valid(doc) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("repokit", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if !validJSON(doc) {
				b.Fatal("refused")
			}
		}
	})
}
