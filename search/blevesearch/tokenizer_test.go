package blevesearch

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
)

// The fast ASCII path must split exactly as bleve's unicode tokenizer
// (UAX#29), including the types it gives.
func checkTokens(t *testing.T, s string) {
	t.Helper()
	got := wordsTokenizer{}.Tokenize([]byte(s))
	want := unicodeTokenizer.Tokenize([]byte(s))
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %d tokens, want %d: %v vs %v", s, len(got), len(want), got, want)
	}
	for i := range got {
		if !reflect.DeepEqual(*got[i], *want[i]) {
			t.Fatalf("%q: token %d = %+v, want %+v", s, i, *got[i], *want[i])
		}
	}
}

func TestWordsTokenizerMatchesUnicode(t *testing.T) {
	for _, s := range []string{"", " ", "a", "_", "__", "1", "_1_", "a1", "1a", "a.b", "a..b", "a.b.", "1.5", "1,000.5",
		"1;2", "a;b", "a:b", "1:2", "can't", "'a'", "a'1", "1'2", "x_y", "a_.b", "1.a", "a.1", "e-mail", "3.14.15",
		"U.S.A.", "foo@bar.com", "C++", "\"a\"", "a\r\nb", "tab\tsep", "héllo wörld", "日本語 text", "naïve_1.2"} {
		checkTokens(t, s)
	}
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("aZ09_.':,;\" -\n\r\t!@#/x1")
	for range 200000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkTokens(t, string(b))
	}
	for range 50000 { // every ASCII byte
		b := make([]byte, r.IntN(10))
		for i := range b {
			b[i] = byte(r.IntN(128))
		}
		checkTokens(t, string(b))
	}
}

func FuzzWordsTokenizer(f *testing.F) {
	for _, s := range []string{"a.b", "1,2", "can't", "x_1", "a:b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkTokens(t, s) })
}

// BenchmarkWordsTokenizer tokenizes a ~2 KB ASCII description with bleve's
// unicode tokenizer (baseline) and with the fast ASCII path (repokit).
func BenchmarkWordsTokenizer(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var sb []byte
	for range 280 {
		n := 3 + r.IntN(7)
		for range n {
			sb = append(sb, byte('a'+r.IntN(26)))
		}
		sb = append(sb, ' ')
	}
	sb = append(sb, "Version 3.14, e-mail: a.b@c.org (2012)."...)
	for _, c := range []struct {
		name string
		tok  interface {
			Tokenize([]byte) analysis.TokenStream
		}
	}{{"baseline", unicodeTokenizer}, {"repokit", wordsTokenizer{}}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(sb)))
			for b.Loop() {
				c.tok.Tokenize(sb)
			}
		})
	}
}
