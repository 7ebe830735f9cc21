package blevesearch

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/repokit/repokit/search"
)

// MaxTermExpansions bounds the terms one wildcard, prefix or fuzzy clause
// may expand to (OpenSearch bounds rewrites with
// indices.query.bool.max_clause_count); a clause matching more terms is an
// ErrBadQuery instead of a search that runs for seconds. Fuzzy clauses keep
// the 50 closest terms, as OpenSearch's fuzzy max_expansions does.
const (
	MaxTermExpansions  = 20000
	fuzzyMaxExpansions = 50
)

// expandQuery is a multi-term query (prefix, wildcard, fuzzy) that expands
// its terms itself: bounded, and checking the context while it walks the
// term dictionary.
type expandQuery struct {
	Kind      string // prefix, wildcard, fuzzy
	Field     string
	Term      string
	Fuzziness int
	boost     float64
}

func (q *expandQuery) SetBoost(b float64) { q.boost = b }
func (q *expandQuery) Boost() float64     { return q.boost }

func (q *expandQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	var dict index.FieldDict
	var err error
	switch q.Kind {
	case "prefix":
		dict, err = i.FieldDictPrefix(q.Field, []byte(q.Term))
	case "wildcard":
		r, ok := i.(index.IndexReaderRegexp)
		if !ok {
			return nil, fmt.Errorf("%w: wildcard queries", search.ErrUnsupported)
		}
		dict, err = r.FieldDictRegexp(q.Field, wildcardRegexp(q.Term))
	case "fuzzy":
		r, ok := i.(index.IndexReaderFuzzy)
		if !ok {
			return nil, fmt.Errorf("%w: fuzzy queries", search.ErrUnsupported)
		}
		dict, err = r.FieldDictFuzzy(q.Field, q.Term, q.Fuzziness, "")
	default:
		return nil, fmt.Errorf("%w: expansion %s", search.ErrUnsupported, q.Kind)
	}
	if err != nil {
		return nil, &search.QueryError{Param: "q", Pos: -1, Msg: fmt.Sprintf("%s term %q on %s cannot be run: %v", q.Kind, q.Term, q.Field, err)}
	}
	defer dict.Close()
	type cand struct {
		term string
		ed   uint8
	}
	var terms []cand
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		e, err := dict.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		terms = append(terms, cand{e.Term, e.EditDistance})
		if len(terms) > MaxTermExpansions {
			return nil, &search.QueryError{Param: "q", Pos: -1,
				Msg: fmt.Sprintf("%s term %q matches more than %d terms of %s; make it more specific", q.Kind, q.Term, MaxTermExpansions, q.Field)}
		}
	}
	if q.Kind == "fuzzy" && len(terms) > fuzzyMaxExpansions {
		sort.Slice(terms, func(a, b int) bool {
			if terms[a].ed != terms[b].ed {
				return terms[a].ed < terms[b].ed
			}
			return terms[a].term < terms[b].term
		})
		terms = terms[:fuzzyMaxExpansions]
	}
	if len(terms) == 0 {
		return searcher.NewMatchNoneSearcher(i)
	}
	ts := make([]string, len(terms))
	for k, c := range terms {
		ts[k] = c.term
	}
	// constant score, as OpenSearch's constant_score rewrite of
	// multi-term queries: the terms are OR-ed as bitmaps (bleve's
	// "unadorned" disjunction) instead of scored one by one, which keeps a
	// pattern matching thousands of terms cheap
	opts := options
	opts.Score, opts.IncludeTermVectors = "none", false
	inner, err := searcher.NewMultiTermSearcher(ctx, i, ts, q.Field, q.boost, opts, false)
	if err != nil {
		return nil, err
	}
	return &constScoreSearcher{Searcher: inner, score: q.boost}, nil
}

// constScoreSearcher gives every match the same score.
type constScoreSearcher struct {
	bsearch.Searcher
	score float64
}

func (s *constScoreSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	dm, err := s.Searcher.Next(ctx)
	if dm != nil {
		dm.Score = s.score
	}
	return dm, err
}

func (s *constScoreSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	dm, err := s.Searcher.Advance(ctx, id)
	if dm != nil {
		dm.Score = s.score
	}
	return dm, err
}

// wildcardRegexp turns a wildcard pattern (* ? and \ escapes) into an
// anchored regular expression for the term dictionary.
func wildcardRegexp(p string) string {
	var b strings.Builder
	for k := 0; k < len(p); k++ {
		c := p[k]
		switch c {
		case '\\':
			if k+1 < len(p) {
				k++
				b.WriteString(regexp.QuoteMeta(p[k : k+1]))
			}
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(p[k : k+1]))
		}
	}
	return b.String()
}

// slopPhraseQuery is a sloppy phrase ("a b"~2), which bleve lacks: the
// conjunction of the phrase's terms with their positions, kept when the
// positions fit Lucene's rule — max(pos-i) - min(pos-i) <= slop over the
// phrase's terms, within one value of the field.
type slopPhraseQuery struct {
	Field string
	Text  string
	Slop  int
	boost float64
}

func (q *slopPhraseQuery) SetBoost(b float64) { q.boost = b }
func (q *slopPhraseQuery) Boost() float64     { return q.boost }

func (q *slopPhraseQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	an := m.AnalyzerNamed(m.AnalyzerNameForPath(q.Field))
	if an == nil {
		return nil, fmt.Errorf("blevesearch: no analyzer for %s", q.Field)
	}
	var terms []string
	var offs []int
	first := -1
	for _, t := range an.Analyze([]byte(q.Text)) {
		if first < 0 {
			first = t.Position
		}
		terms = append(terms, string(t.Term))
		offs = append(offs, t.Position-first)
	}
	if len(terms) == 0 {
		return searcher.NewMatchNoneSearcher(i)
	}
	opts := options
	opts.IncludeTermVectors = true
	ss := make([]bsearch.Searcher, 0, len(terms))
	seen := map[string]bool{}
	for _, t := range terms {
		if seen[t] {
			continue
		}
		seen[t] = true
		s, err := searcher.NewTermSearcher(ctx, i, t, q.Field, q.boost, opts)
		if err != nil {
			for _, s := range ss {
				_ = s.Close()
			}
			return nil, err
		}
		ss = append(ss, s)
	}
	conj, err := searcher.NewConjunctionSearcher(ctx, i, ss, opts)
	if err != nil {
		return nil, err
	}
	return &slopSearcher{Searcher: conj, field: q.Field, terms: terms, offs: offs, slop: q.Slop, keepLocs: options.IncludeTermVectors}, nil
}

type slopSearcher struct {
	bsearch.Searcher
	field    string
	terms    []string
	offs     []int
	slop     int
	keepLocs bool
	pos      map[string][]int // reused per document
}

func (s *slopSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	for {
		dm, err := s.Searcher.Next(ctx)
		if err != nil || dm == nil {
			return dm, err
		}
		if s.accept(dm) {
			return dm, nil
		}
		ctx.DocumentMatchPool.Put(dm)
	}
}

func (s *slopSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	dm, err := s.Searcher.Advance(ctx, id)
	if err != nil || dm == nil {
		return dm, err
	}
	if s.accept(dm) {
		return dm, nil
	}
	ctx.DocumentMatchPool.Put(dm)
	return s.Next(ctx)
}

// accept checks the positions of the phrase's terms in dm.
func (s *slopSearcher) accept(dm *bsearch.DocumentMatch) bool {
	if s.pos == nil {
		s.pos = map[string][]int{}
	}
	multi := false
	for _, ftl := range dm.FieldTermLocations {
		if ftl.Field == s.field && len(ftl.Location.ArrayPositions) > 0 {
			multi = true
			break
		}
	}
	ok := false
	if !multi { // one value: one set of positions
		for t := range s.pos {
			s.pos[t] = s.pos[t][:0]
		}
		for _, ftl := range dm.FieldTermLocations {
			if ftl.Field == s.field {
				s.pos[ftl.Term] = append(s.pos[ftl.Term], int(ftl.Location.Pos))
			}
		}
		ok = sloppyMatch(s.terms, s.offs, s.pos, s.slop)
	} else { // positions per value of the field (array position)
		byValue := map[string]map[string][]int{}
		for _, ftl := range dm.FieldTermLocations {
			if ftl.Field != s.field {
				continue
			}
			k := fmt.Sprint(ftl.Location.ArrayPositions)
			if byValue[k] == nil {
				byValue[k] = map[string][]int{}
			}
			byValue[k][ftl.Term] = append(byValue[k][ftl.Term], int(ftl.Location.Pos))
		}
		for _, pos := range byValue {
			if sloppyMatch(s.terms, s.offs, pos, s.slop) {
				ok = true
				break
			}
		}
	}
	if !s.keepLocs {
		dm.FieldTermLocations = dm.FieldTermLocations[:0]
	}
	return ok
}

// sloppyMatch reports whether distinct positions p_k of terms[k] exist with
// max(p_k - offs[k]) - min(p_k - offs[k]) <= slop.
func sloppyMatch(terms []string, offs []int, pos map[string][]int, slop int) bool {
	for _, t := range terms {
		if len(pos[t]) == 0 {
			return false
		}
	}
	var usedBuf [16]int
	for k0, t0 := range terms {
		for _, p0 := range pos[t0] {
			base := p0 - offs[k0] // try windows [base, base+slop]
			used := usedBuf[:0]
			all := true
			for k, t := range terms {
				found := false
				for _, p := range pos[t] {
					if d := p - offs[k]; d >= base && d <= base+slop && !slices.Contains(used, p) {
						used, found = append(used, p), true
						break
					}
				}
				if !found {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
	}
	return false
}
