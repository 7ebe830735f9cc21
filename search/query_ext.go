package search

// Exists matches documents with at least one indexed value in Field (an
// OpenSearch exists query: null and empty arrays do not count, an empty
// keyword does, a text value counts when it has at least one token).
type Exists struct {
	Field string
}

// Fuzzy matches terms of Field within Fuzziness edits (Damerau-Levenshtein,
// a transposition is one edit) of Value; Fuzziness -1 is AUTO (0 edits up
// to 2 characters, 1 up to 5, else 2), as OpenSearch's query_string does for
// term~. Value is already normalized (lowercased/folded for text fields).
type Fuzzy struct {
	Field     string
	Value     string
	Fuzziness int
}

// Boost multiplies the score of Query by Factor (term^2, (group)^3). It
// does not change which documents match.
type Boost struct {
	Query  Query
	Factor float64
}

// IDs matches the documents with the given ids.
type IDs struct {
	Values []string
}

func (Exists) isQuery() {}
func (Fuzzy) isQuery()  {}
func (Boost) isQuery()  {}
func (IDs) isQuery()    {}

// AutoFuzziness returns the edit distance of fuzziness AUTO for term.
func AutoFuzziness(term string) int {
	n := len([]rune(term))
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	}
	return 2
}
