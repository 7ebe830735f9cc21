package blevesearch

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// wordsTokenizerName is the tokenizer of the text analyzers: UAX#29 words
// exactly as bleve's "unicode" tokenizer (and OpenSearch's standard
// tokenizer) splits them, with a fast path for pure-ASCII text, where the
// word-break rules reduce to a few byte classes. Long ASCII descriptions
// are the bulk of indexing work; bleve's general segmenter spends most of
// its time in a Unicode state machine.
const wordsTokenizerName = "repokit_words"

func init() {
	// bleve resolves analyzers of an index (also one opened from disk)
	// through its registry by name, so the tokenizer must be registered
	// once per process before any index is created or opened.
	if err := registry.RegisterTokenizer(wordsTokenizerName, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return wordsTokenizer{}, nil
	}); err != nil {
		panic(err)
	}
}

type wordsTokenizer struct{}

var unicodeTokenizer = unicode.NewUnicodeTokenizer()

// ASCII word-break classes (UAX#29 word break property).
const (
	wbOther     = iota
	wbLetter    // ALetter
	wbDigit     // Numeric
	wbUnder     // ExtendNumLet
	wbMidLetter // MidLetter (:)
	wbMidBoth   // MidNumLet (.), Single_Quote (')
	wbMidNum    // MidNum (, ;)
)

var wbClass = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = wbLetter, wbLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = wbDigit
	}
	t['_'], t[':'], t['.'], t['\''], t[','], t[';'] = wbUnder, wbMidLetter, wbMidBoth, wbMidBoth, wbMidNum, wbMidNum
	return t
}()

func isWordByte(c uint8) bool { return c == wbLetter || c == wbDigit || c == wbUnder }

// Tokenize implements analysis.Tokenizer.
func (wordsTokenizer) Tokenize(input []byte) analysis.TokenStream {
	for _, b := range input {
		if b >= 0x80 {
			return unicodeTokenizer.Tokenize(input)
		}
	}
	// one token per 6 bytes is a close guess for prose
	ta := make([]analysis.Token, 0, len(input)/6+1)
	n := len(input)
	for i := 0; i < n; {
		if !isWordByte(wbClass[input[i]]) {
			i++
			continue
		}
		start := i
		letters, digits := false, false
		for {
			c := wbClass[input[i]]
			letters = letters || c == wbLetter
			digits = digits || c == wbDigit
			i++
			if i == n {
				break
			}
			next := wbClass[input[i]]
			if isWordByte(next) {
				continue // WB5, WB8, WB9, WB10, WB13a, WB13b
			}
			// WB6/WB7 (letter mid letter), WB11/WB12 (digit mid digit)
			if i+1 < n {
				after := wbClass[input[i+1]]
				if (c == wbLetter && after == wbLetter && (next == wbMidLetter || next == wbMidBoth)) ||
					(c == wbDigit && after == wbDigit && (next == wbMidNum || next == wbMidBoth)) {
					i++
					continue
				}
			}
			break
		}
		typ := analysis.AlphaNumeric
		if digits && !letters {
			typ = analysis.Numeric
		}
		ta = append(ta, analysis.Token{Term: input[start:i:i], Start: start, End: i, Position: len(ta) + 1, Type: typ})
	}
	rv := make(analysis.TokenStream, len(ta))
	for i := range ta {
		rv[i] = &ta[i]
	}
	return rv
}
