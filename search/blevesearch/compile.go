package blevesearch

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/repokit/repokit/search"
)

// ExistsField is the internal keyword field listing, per document, the
// paths of the mapped fields that have a value (OpenSearch's _field_names),
// so that field:* and _exists_:field are one term lookup.
const ExistsField = "_exists"

// compiler translates portable queries into bleve queries for one search.
type compiler struct {
	fields map[string]search.Field
	// noScore: the query runs without scores (the one-pass search), so
	// that it may be rewritten into shapes bleve evaluates as bitmaps
	noScore bool
}

func newCompiler(fields map[string]search.Field) *compiler {
	return &compiler{fields: fields}
}

// compile translates a portable query into a bleve query.
func (c *compiler) compile(q search.Query) (query.Query, error) {
	switch q := q.(type) {
	case nil, search.MatchAll:
		return bleve.NewMatchAllQuery(), nil
	case search.MatchNone:
		return bleve.NewMatchNoneQuery(), nil
	case search.Term:
		if q.Value == "true" || q.Value == "false" {
			// booleans are indexed as the terms T/F by bleve
			bq := bleve.NewBoolFieldQuery(q.Value == "true")
			bq.SetField(q.Field)
			tq := bleve.NewTermQuery(q.Value)
			tq.SetField(q.Field)
			return bleve.NewDisjunctionQuery(bq, tq), nil
		}
		tq := bleve.NewTermQuery(q.Value)
		tq.SetField(q.Field)
		return tq, nil
	case search.Terms:
		var ds []query.Query
		for _, v := range q.Values {
			tq := bleve.NewTermQuery(v)
			tq.SetField(q.Field)
			ds = append(ds, tq)
		}
		if len(ds) == 0 {
			return bleve.NewMatchNoneQuery(), nil
		}
		return bleve.NewDisjunctionQuery(ds...), nil
	case search.IDs:
		return bleve.NewDocIDQuery(q.Values), nil
	case search.Exists:
		tq := bleve.NewTermQuery(q.Field)
		tq.SetField(ExistsField)
		return tq, nil
	case search.Match:
		return perField(q.Field, q.Fields, func(f string) query.Query {
			mq := bleve.NewMatchQuery(q.Text)
			mq.SetField(f)
			mq.SetOperator(query.MatchQueryOperatorAnd)
			if c.noScore {
				return &andMatchQuery{mq}
			}
			return mq
		}), nil
	case search.Phrase:
		if err := c.checkPositions(q); err != nil {
			return nil, err
		}
		return perField(q.Field, q.Fields, func(f string) query.Query {
			if !c.positions(f) {
				// one token (checkPositions): a term, as OpenSearch runs it
				mq := bleve.NewMatchQuery(q.Text)
				mq.SetField(f)
				return mq
			}
			if q.Slop > 0 {
				return &slopPhraseQuery{Field: f, Text: q.Text, Slop: q.Slop, boost: 1}
			}
			pq := bleve.NewMatchPhraseQuery(q.Text)
			pq.SetField(f)
			return pq
		}), nil
	case search.Prefix:
		return &expandQuery{Kind: "prefix", Field: q.Field, Term: q.Value, boost: 1}, nil
	case search.Wildcard:
		return &expandQuery{Kind: "wildcard", Field: q.Field, Term: q.Pattern, boost: 1}, nil
	case search.Fuzzy:
		if q.Fuzziness <= 0 {
			tq := bleve.NewTermQuery(q.Value)
			tq.SetField(q.Field)
			return tq, nil
		}
		return &expandQuery{Kind: "fuzzy", Field: q.Field, Term: q.Value, Fuzziness: q.Fuzziness, boost: 1}, nil
	case search.Boost:
		inner, err := c.compile(q.Query)
		if err != nil {
			return nil, err
		}
		if bq, ok := inner.(query.BoostableQuery); ok {
			bq.SetBoost(q.Factor)
			return bq, nil
		}
		cq := bleve.NewConjunctionQuery(inner)
		cq.SetBoost(q.Factor)
		return cq, nil
	case search.Range:
		return compileRange(q)
	case search.Bool:
		bq := bleve.NewBooleanQuery()
		var must []query.Query
		for _, cl := range append(append([]search.Query(nil), q.Must...), q.Filter...) {
			cq, err := c.compile(cl)
			if err != nil {
				return nil, err
			}
			must = append(must, cq)
		}
		var should []query.Query
		for _, cl := range q.Should {
			cq, err := c.compile(cl)
			if err != nil {
				return nil, err
			}
			should = append(should, cq)
		}
		var not []query.Query
		for _, cl := range q.MustNot {
			cq, err := c.compile(cl)
			if err != nil {
				return nil, err
			}
			not = append(not, cq)
		}
		if len(must) > 0 {
			bq.AddMust(must...)
		}
		if len(should) > 0 {
			bq.AddShould(should...)
			if len(must) == 0 {
				bq.SetMinShould(1)
			}
		}
		if len(not) > 0 {
			bq.AddMustNot(not...)
			if len(must) == 0 && len(should) == 0 {
				bq.AddMust(bleve.NewMatchAllQuery())
			}
		}
		if len(must)+len(should)+len(not) == 0 {
			return bleve.NewMatchAllQuery(), nil
		}
		return bq, nil
	}
	if gq, ok, err := compileGeo(q); ok {
		return gq, err
	}
	return nil, fmt.Errorf("%w: query node %T", search.ErrUnsupported, q)
}

// positions reports whether field f is indexed with term positions.
func (c *compiler) positions(f string) bool {
	fd, ok := c.fields[f]
	return !ok || fd.Type != search.Text || fd.Positions
}

// checkPositions refuses a phrase of more than one token on a text field
// indexed without positions (index_options docs/freqs), as OpenSearch does
// ("field was indexed without position data"): bleve would silently match
// nothing.
func (c *compiler) checkPositions(q search.Phrase) error {
	fs := q.Fields
	if q.Field != "" {
		fs = []string{q.Field}
	}
	for _, f := range fs {
		if c.positions(f) {
			continue
		}
		if len(wordTokenizer.Tokenize([]byte(q.Text))) > 1 {
			return &search.QueryError{Param: "q", Pos: -1,
				Msg: fmt.Sprintf("field %s is indexed without positions: phrase and proximity queries are not supported on it", f)}
		}
	}
	return nil
}

// wordTokenizer is the tokenizer of every text analyzer (UAX#29 words):
// the filters after it never change the number of tokens.
var wordTokenizer = unicode.NewUnicodeTokenizer()

func perField(field string, fields []string, mk func(string) query.Query) query.Query {
	if field != "" {
		return mk(field)
	}
	if len(fields) == 1 {
		return mk(fields[0])
	}
	var ds []query.Query
	for _, f := range fields {
		ds = append(ds, mk(f))
	}
	return bleve.NewDisjunctionQuery(ds...)
}

func compileRange(q search.Range) (query.Query, error) {
	inF, inT := q.IncludeFrom, q.IncludeTo
	if q.From == "" && q.To == "" {
		return bleve.NewMatchAllQuery(), nil
	}
	switch q.Kind {
	case search.Number:
		var lo, hi *float64
		if q.From != "" {
			v, err := strconv.ParseFloat(q.From, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: range bound %q", search.ErrInvalid, q.From)
			}
			lo = &v
		}
		if q.To != "" {
			v, err := strconv.ParseFloat(q.To, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: range bound %q", search.ErrInvalid, q.To)
			}
			hi = &v
		}
		if lo != nil && hi != nil && (*lo > *hi || (*lo == *hi && !(inF && inT))) {
			return bleve.NewMatchNoneQuery(), nil
		}
		rq := bleve.NewNumericRangeInclusiveQuery(lo, hi, &inF, &inT)
		rq.SetField(q.Field)
		return rq, nil
	case search.Date:
		// a zero time is an open end for bleve
		var lo, hi time.Time
		lf, lt := inF, inT
		var err error
		if q.From != "" {
			if lo, err = search.ParseDate(q.From); err != nil {
				return nil, fmt.Errorf("%w: %v", search.ErrInvalid, err)
			}
			lo = clampTime(lo)
		}
		if q.To != "" {
			if hi, err = search.ParseDate(q.To); err != nil {
				return nil, fmt.Errorf("%w: %v", search.ErrInvalid, err)
			}
			hi = clampTime(hi)
		}
		if !lo.IsZero() && !hi.IsZero() && (lo.After(hi) || (lo.Equal(hi) && !(lf && lt))) {
			return bleve.NewMatchNoneQuery(), nil
		}
		rq := bleve.NewDateRangeInclusiveQuery(lo, hi, &lf, &lt)
		rq.SetField(q.Field)
		return rq, nil
	default:
		rq := bleve.NewTermRangeInclusiveQuery(q.From, q.To, &inF, &inT)
		rq.SetField(q.Field)
		return rq, nil
	}
}

// bleve stores dates as Unix nanoseconds: years 1678 to 2261.
var (
	minTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2261, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t
}

func sortOrder(sf []search.SortField) []string {
	out := make([]string, len(sf))
	for i, s := range sf {
		f := s.Field
		if s.Desc {
			f = "-" + f
		}
		out[i] = f
	}
	return out
}

// andMatchQuery is a match query (operator and) that runs as a term query
// when its text is one token. bleve runs it as a conjunction of its
// tokens' terms, and a conjunction of one term stops bleve's unscored
// bitmap evaluation of the disjunctions and conjunctions above it. The
// scores differ (query norms), so it is only used without scores.
type andMatchQuery struct {
	*query.MatchQuery
}

func (q *andMatchQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	field := q.FieldVal
	if field == "" {
		field = m.DefaultSearchField()
	}
	name := q.Analyzer
	if name == "" {
		name = m.AnalyzerNameForPath(field)
	}
	if a := m.AnalyzerNamed(name); a != nil && q.Fuzziness == 0 {
		if ts := a.Analyze([]byte(q.Match)); len(ts) == 1 {
			tq := bleve.NewTermQuery(string(ts[0].Term))
			tq.SetField(field)
			tq.SetBoost(q.BoostVal.Value())
			return tq.Searcher(ctx, i, m, options)
		}
	}
	return q.MatchQuery.Searcher(ctx, i, m, options)
}
