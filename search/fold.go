package search

import "github.com/blevesearch/bleve/v2/analysis/char/asciifolding"

// FoldASCII folds s to ASCII as OpenSearch's asciifolding filter does
// (Lucene's ASCIIFoldingFilter table: ü → u, ß → ss, ø → o, æ → ae...).
func FoldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return string(asciifolding.New().Filter([]byte(s)))
		}
	}
	return s
}
