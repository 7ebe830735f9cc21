package search

// Query is a node of the portable query tree that drivers compile to their
// engine's query language. Build it with the constructors below or get it from
// [Parse]. Field names in a Query are index field paths (already resolved
// through the allow-list).
type Query interface{ isQuery() }

// MatchAll matches every document.
type MatchAll struct{}

// MatchNone matches no document.
type MatchNone struct{}

// Term matches documents whose keyword/boolean field equals Value exactly.
type Term struct {
	Field string
	Value string
}

// Terms matches documents whose keyword field equals any of Values.
type Terms struct {
	Field  string
	Values []string
}

// Match matches analyzed text: every word of Text must occur (operator AND)
// in Field, or in any of Fields when Field is empty.
type Match struct {
	Field  string
	Fields []string
	Text   string
}

// Phrase matches the words of Text in order in Field (or any of Fields).
// Slop > 0 allows that many position moves (Lucene's sloppy phrase:
// "a b"~2 also matches "a x y b" and "b a").
type Phrase struct {
	Field  string
	Fields []string
	Text   string
	Slop   int
}

// Prefix matches terms of Field starting with Value.
type Prefix struct {
	Field string
	Value string
}

// Wildcard matches terms of Field against Pattern (* and ?).
type Wildcard struct {
	Field   string
	Pattern string
}

// Range matches Field values between From and To (either may be empty for an
// open end). Kind tells drivers how to compare.
type Range struct {
	Field                  string
	Kind                   FieldType // Number, Date or Keyword
	From, To               string
	IncludeFrom, IncludeTo bool
}

// Bool combines queries: all of Must (scored) and Filter (not scored), at
// least one of Should when there is no Must/Filter (else Should only scores),
// none of MustNot.
type Bool struct {
	Must, Should, MustNot, Filter []Query
}

func (MatchAll) isQuery()  {}
func (MatchNone) isQuery() {}
func (Term) isQuery()      {}
func (Terms) isQuery()     {}
func (Match) isQuery()     {}
func (Phrase) isQuery()    {}
func (Prefix) isQuery()    {}
func (Wildcard) isQuery()  {}
func (Range) isQuery()     {}
func (Bool) isQuery()      {}

// And returns a query matching all of qs (nil entries are skipped).
func And(qs ...Query) Query {
	var keep []Query
	for _, q := range qs {
		if q != nil {
			if _, all := q.(MatchAll); all {
				continue
			}
			keep = append(keep, q)
		}
	}
	switch len(keep) {
	case 0:
		return MatchAll{}
	case 1:
		return keep[0]
	}
	return Bool{Must: keep}
}

// AndFilter returns q restricted by filters (which do not score).
func AndFilter(q Query, filters ...Query) Query {
	var keep []Query
	for _, f := range filters {
		if f != nil {
			if _, all := f.(MatchAll); !all {
				keep = append(keep, f)
			}
		}
	}
	if len(keep) == 0 {
		if q == nil {
			return MatchAll{}
		}
		return q
	}
	b := Bool{Filter: keep}
	if q != nil {
		if _, all := q.(MatchAll); !all {
			b.Must = []Query{q}
		}
	}
	return b
}
