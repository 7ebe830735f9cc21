package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Schema tells the query parser which fields users may query, under which
// names, and which fields unqualified terms search.
type Schema struct {
	// Fields maps the names users write (e.g. "title") to index field paths
	// (e.g. "metadata.title"). Only these fields can be queried; an unknown
	// name is an ErrBadQuery. A nil map allows no field-qualified queries.
	Fields map[string]string
	// Default lists the field paths searched by unqualified terms. An
	// unqualified phrase searches those of them indexed with positions
	// (text fields without index_options docs/freqs, see Analysis).
	Default []string
	// Types gives the type of each path (usually from the index definition);
	// unknown paths count as Text.
	Types map[string]FieldType
	// Analysis gives, for text paths, what their analyzer does (lowercase,
	// ASCII folding), used to normalize wildcard, prefix and fuzzy terms as
	// OpenSearch's query_string does. Missing paths are lowercased only.
	// An entry of type Text with Positions false (index_options docs or
	// freqs) refuses phrase and proximity queries on that field.
	Analysis map[string]Field
	// Now is the clock of date math ("now-1y/y"); nil = time.Now.
	Now func() time.Time
}

// Limits of the parser, so that user input cannot exhaust the server.
const (
	MaxQueryLength  = 4096
	maxQueryDepth   = 32
	maxQueryClauses = 1024
	// MaxExpansions bounds the multi-term clauses of one query (wildcard,
	// prefix and fuzzy terms, counted once per field they search), and
	// MaxWildcards the * and ? of one pattern, so that no user query can make
	// the engine enumerate the term dictionary without end.
	MaxExpansions = 16
	MaxWildcards  = 8
	// MaxPatternLength bounds a wildcard pattern in bytes.
	MaxPatternLength = 128
)

// Parse parses a Lucene-syntax query string into a Query:
//
//	word  "a phrase"  field:value  field:"phrase"  field:(a OR b)
//	a AND b  a OR b  NOT a  a && b  a || b  !a  +required  -excluded  ( ... )
//	field:[a TO b]  field:{a TO b]  field:[* TO b]  wild*card  te?t  \escaped
//	field:*  _exists_:field  (field has a value; -field:* has none)
//	field:>10  field:>=10  field:<10  field:<=10  (numbers, dates, keywords)
//	word~  word~1  (fuzzy; ~ alone is AUTO)  "a phrase"~2  (slop)
//	word^2  "a phrase"^2  (group)^3  (boost)
//
// Dates follow OpenSearch's rules: a missing component is the start of the
// period for a lower bound and its end for an upper bound (date:2012 is
// 2012-01-01 as a whole day; [2017 TO 2018] reaches the end of 2018-01-01);
// date math works in bounds and values (now-1y/y, 2016||/y, date:2016||/y is
// all of 2016).
//
// Juxtaposed clauses are combined with AND. Errors are *QueryError values
// (errors.Is(err, ErrBadQuery)) with the byte position of the problem. An
// empty query is MatchAll.
func Parse(q string, s *Schema) (Query, error) {
	if len(q) > MaxQueryLength {
		return nil, &QueryError{Param: "q", Pos: MaxQueryLength, Msg: fmt.Sprintf("query longer than %d bytes", MaxQueryLength)}
	}
	if !utf8.ValidString(q) {
		return nil, &QueryError{Param: "q", Pos: 0, Msg: "query is not valid UTF-8"}
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, schema: s, src: q, now: time.Now}
	if s != nil && s.Now != nil {
		p.now = s.Now
	}
	if len(toks) == 1 { // only EOF
		return MatchAll{}, nil
	}
	node, err := p.parseOr(0, nil)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t.pos, "unexpected %s", t.describe())
	}
	return node, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tPhrase
	tLParen
	tRParen
	tColon
	tLBracket // [ or {
	tRBracket // ] or }
	tAnd
	tOr
	tNot
	tPlus
	tMinus
	tTo
	tTilde // ~ with an optional number (text)
	tCaret // ^ with a number (text)
)

type token struct {
	kind    tokKind
	pos     int
	text    string // unescaped word / phrase text; bracket char
	wild    bool   // word had an unescaped * or ?
	pattern string // word with wildcards kept, escapes resolved except for * ?
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tWord:
		return fmt.Sprintf("%q", t.text)
	case tPhrase:
		return "phrase"
	case tTilde:
		return `"~"`
	case tCaret:
		return `"^"`
	}
	return fmt.Sprintf("%q", t.text)
}

func isSpecial(r rune) bool {
	switch r {
	case '(', ')', ':', '"', '[', ']', '{', '}', '~', '^':
		return true
	}
	return unicode.IsSpace(r)
}

func lex(q string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(q) {
		r, w := utf8.DecodeRuneInString(q[i:])
		switch {
		case unicode.IsSpace(r):
			i += w
		case r == '~' || r == '^':
			start := i
			i++
			j := i
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.') {
				j++
			}
			k := tTilde
			if r == '^' {
				k = tCaret
			}
			if j < len(q) {
				if r2, _ := utf8.DecodeRuneInString(q[j:]); !isSpecial(r2) {
					return nil, &QueryError{Param: "q", Pos: start, Msg: fmt.Sprintf("%c needs a whole number (word~1, \"a phrase\"~2, word^2)", r)}
				}
			}
			toks = append(toks, token{kind: k, pos: start, text: q[i:j]})
			i = j
		case r == '(':
			toks = append(toks, token{kind: tLParen, pos: i, text: "("})
			i++
		case r == ')':
			toks = append(toks, token{kind: tRParen, pos: i, text: ")"})
			i++
		case r == ':':
			toks = append(toks, token{kind: tColon, pos: i, text: ":"})
			i++
		case r == '[' || r == '{':
			toks = append(toks, token{kind: tLBracket, pos: i, text: string(r)})
			i++
		case r == ']' || r == '}':
			toks = append(toks, token{kind: tRBracket, pos: i, text: string(r)})
			i++
		case r == '+' && (i+1 >= len(q) || !unicode.IsSpace(rune(q[i+1]))):
			toks = append(toks, token{kind: tPlus, pos: i, text: "+"})
			i++
		case r == '-' && (i+1 >= len(q) || !unicode.IsSpace(rune(q[i+1]))):
			toks = append(toks, token{kind: tMinus, pos: i, text: "-"})
			i++
		case r == '!' && (i+1 >= len(q) || q[i+1] != '='):
			toks = append(toks, token{kind: tNot, pos: i, text: "!"})
			i++
		case strings.HasPrefix(q[i:], "&&"):
			toks = append(toks, token{kind: tAnd, pos: i, text: "&&"})
			i += 2
		case strings.HasPrefix(q[i:], "||"):
			toks = append(toks, token{kind: tOr, pos: i, text: "||"})
			i += 2
		case r == '"':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(q) {
				c := q[i]
				if c == '\\' && i+1 < len(q) {
					r2, w2 := utf8.DecodeRuneInString(q[i+1:])
					b.WriteRune(r2)
					i += 1 + w2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, &QueryError{Param: "q", Pos: start, Msg: "unterminated phrase"}
			}
			toks = append(toks, token{kind: tPhrase, pos: start, text: b.String()})
		default:
			start := i
			var b, pat strings.Builder
			wild := false
			for i < len(q) {
				r2, w2 := utf8.DecodeRuneInString(q[i:])
				if r2 == '\\' {
					if i+1 >= len(q) {
						return nil, &QueryError{Param: "q", Pos: i, Msg: "dangling escape"}
					}
					r3, w3 := utf8.DecodeRuneInString(q[i+1:])
					b.WriteRune(r3)
					if r3 == '*' || r3 == '?' || r3 == '\\' {
						pat.WriteByte('\\')
					}
					pat.WriteRune(r3)
					i += 1 + w3
					continue
				}
				if isSpecial(r2) {
					break
				}
				if r2 == '*' || r2 == '?' {
					wild = true
				}
				b.WriteRune(r2)
				pat.WriteRune(r2)
				i += w2
			}
			word := b.String()
			t := token{kind: tWord, pos: start, text: word, wild: wild, pattern: pat.String()}
			if !wild && pat.String() == word { // operators only when unescaped
				switch word {
				case "AND":
					t.kind = tAnd
				case "OR":
					t.kind = tOr
				case "NOT":
					t.kind = tNot
				case "TO":
					t.kind = tTo
				}
			}
			toks = append(toks, t)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(q)}), nil
}

type parser struct {
	toks    []token
	i       int
	schema  *Schema
	src     string
	clauses int
	expand  int // multi-term clauses so far
	now     func() time.Time
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &QueryError{Param: "q", Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// field is the field context inherited from field:( ... ) groups; nil means
// unqualified.
type fieldCtx struct {
	name string
	path string
	typ  FieldType
}

func (p *parser) parseOr(depth int, f *fieldCtx) (Query, error) {
	if depth > maxQueryDepth {
		return nil, p.errAt(p.peek().pos, "query nested too deeply")
	}
	first, err := p.parseAnd(depth, f)
	if err != nil {
		return nil, err
	}
	alts := []Query{first}
	for p.peek().kind == tOr {
		p.next()
		q, err := p.parseAnd(depth, f)
		if err != nil {
			return nil, err
		}
		alts = append(alts, q)
	}
	if len(alts) == 1 {
		return first, nil
	}
	return Bool{Should: alts}, nil
}

func (p *parser) parseAnd(depth int, f *fieldCtx) (Query, error) {
	var must, mustNot []Query
	for {
		t := p.peek()
		if t.kind == tEOF || t.kind == tRParen || t.kind == tOr {
			break
		}
		if t.kind == tAnd {
			if len(must)+len(mustNot) == 0 {
				return nil, p.errAt(t.pos, "%s without a left operand", t.text)
			}
			p.next()
			if k := p.peek().kind; k == tEOF || k == tRParen || k == tOr || k == tAnd {
				return nil, p.errAt(p.peek().pos, "%s without a right operand", t.text)
			}
			continue
		}
		neg := false
		switch t.kind {
		case tNot, tMinus:
			neg = true
			p.next()
		case tPlus:
			p.next()
		}
		q, err := p.parseClause(depth, f)
		if err != nil {
			return nil, err
		}
		p.clauses++
		if p.clauses > maxQueryClauses {
			return nil, p.errAt(t.pos, "more than %d clauses", maxQueryClauses)
		}
		if neg {
			mustNot = append(mustNot, q)
		} else {
			must = append(must, q)
		}
	}
	if len(must)+len(mustNot) == 0 {
		return nil, p.errAt(p.peek().pos, "expected a term, found %s", p.peek().describe())
	}
	if len(must) == 1 && len(mustNot) == 0 {
		return must[0], nil
	}
	if len(must) == 0 {
		must = []Query{MatchAll{}}
	}
	return Bool{Must: must, MustNot: mustNot}, nil
}

func (p *parser) parseClause(depth int, f *fieldCtx) (Query, error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		q, err := p.parseOr(depth+1, f)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c.pos, "expected ) to close ( at position %d, found %s", t.pos, c.describe())
		}
		return p.boost(q)
	case tWord:
		if p.toks[p.i+1].kind == tColon {
			if f != nil {
				return nil, p.errAt(t.pos, "field inside a field group")
			}
			p.next()
			p.next()
			if t.text == "_exists_" && t.pattern == t.text {
				v := p.next()
				if v.kind != tWord || v.wild {
					return nil, p.errAt(v.pos, "_exists_ needs a field name")
				}
				fc, err := p.resolveField(v)
				if err != nil {
					return nil, err
				}
				return p.boost(Exists{Field: fc.path})
			}
			fc, err := p.resolveField(t)
			if err != nil {
				return nil, err
			}
			v := p.peek()
			if v.kind == tLParen {
				p.next()
				q, err := p.parseOr(depth+1, fc)
				if err != nil {
					return nil, err
				}
				if c := p.next(); c.kind != tRParen {
					return nil, p.errAt(c.pos, "expected ) to close ( at position %d, found %s", v.pos, c.describe())
				}
				return p.boost(q)
			}
			return p.parseValue(fc)
		}
		return p.parseValue(f)
	case tPhrase, tLBracket:
		return p.parseValue(f)
	case tTo:
		// a lone "TO" is just a word
		p.toks[p.i].kind = tWord
		return p.parseValue(f)
	}
	return nil, p.errAt(t.pos, "expected a term, found %s", t.describe())
}

// boost applies a following ^N to q.
func (p *parser) boost(q Query) (Query, error) {
	t := p.peek()
	if t.kind != tCaret {
		return q, nil
	}
	p.next()
	b, err := strconv.ParseFloat(t.text, 64)
	if err != nil || b < 0 || math.IsInf(b, 0) || b > 1e6 {
		return nil, p.errAt(t.pos, "^ needs a boost between 0 and 1000000 (term^2)")
	}
	return Boost{Query: q, Factor: b}, nil
}

// tilde reads an optional ~N after a term: ok reports whether there was
// one, n is -1 for a bare ~.
func (p *parser) tilde() (n int, pos int, ok bool, err error) {
	t := p.peek()
	if t.kind != tTilde {
		return 0, 0, false, nil
	}
	p.next()
	if t.text == "" {
		return -1, t.pos, true, nil
	}
	v, err := strconv.Atoi(t.text)
	if err != nil || v < 0 {
		return 0, t.pos, true, p.errAt(t.pos, "~ needs a whole number (word~1, \"a phrase\"~2)")
	}
	return v, t.pos, true, nil
}

func (p *parser) resolveField(t token) (*fieldCtx, error) {
	if p.schema == nil || p.schema.Fields == nil {
		return nil, p.errAt(t.pos, "field %q is not searchable", t.text)
	}
	path, ok := p.schema.Fields[t.text]
	if !ok {
		return nil, p.errAt(t.pos, "field %q is not searchable", t.text)
	}
	typ := Text
	if tt, ok := p.schema.Types[path]; ok {
		typ = tt
	}
	return &fieldCtx{name: t.text, path: path, typ: typ}, nil
}

func (p *parser) defaults() []string {
	if p.schema == nil {
		return nil
	}
	return p.schema.Default
}

// perDefault builds one query per default field, combined with OR.
func (p *parser) perDefault(t token, mk func(path string, typ FieldType) (Query, error)) (Query, error) {
	ds := p.defaults()
	if len(ds) == 0 {
		return nil, p.errAt(t.pos, "no default search fields")
	}
	var alts []Query
	for _, d := range ds {
		q, err := mk(d, p.typeOf(d))
		if err != nil {
			return nil, err
		}
		alts = append(alts, q)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Bool{Should: alts}, nil
}

// countExpansion counts n multi-term clauses against MaxExpansions.
func (p *parser) countExpansion(t token, n int) error {
	p.expand += n
	if p.expand > MaxExpansions {
		return p.errAt(t.pos, "too many wildcard, prefix or fuzzy terms (at most %d per query, counting each field searched)", MaxExpansions)
	}
	return nil
}

func (p *parser) parseValue(f *fieldCtx) (Query, error) {
	t := p.next()
	switch t.kind {
	case tLBracket:
		if f == nil {
			return nil, p.errAt(t.pos, "range needs a field (field:[a TO b])")
		}
		q, err := p.parseRange(t, f)
		if err != nil {
			return nil, err
		}
		return p.boost(q)
	case tPhrase:
		slop, _, _, err := p.tilde()
		if err != nil {
			return nil, err
		}
		if slop < 0 {
			slop = 0
		}
		if slop > 100 {
			return nil, p.errAt(t.pos, "phrase slop must be at most 100")
		}
		var q Query
		switch {
		case f == nil:
			if len(p.defaults()) == 0 {
				return nil, p.errAt(t.pos, "no default search fields")
			}
			// default fields indexed without positions cannot run
			// phrases: the phrase searches the others
			var fs []string
			for _, d := range p.defaults() {
				if p.positions(d) {
					fs = append(fs, d)
				}
			}
			if len(fs) == 0 {
				if multiWord(t.text) {
					return nil, p.errAt(t.pos, "phrase and proximity queries need a field indexed with positions; none of the default fields is")
				}
				fs = p.defaults()
			}
			q = Phrase{Fields: fs, Text: t.text, Slop: slop}
		case f.typ == Text:
			if multiWord(t.text) && !p.positions(f.path) {
				return nil, p.errAt(t.pos, "field %s is indexed without positions: phrase and proximity queries are not supported on it", f.name)
			}
			q = Phrase{Field: f.path, Text: t.text, Slop: slop}
		default:
			if q, err = p.exact(t, f, t.text); err != nil {
				return nil, err
			}
		}
		return p.boost(q)
	case tWord:
	default:
		return nil, p.errAt(t.pos, "expected a term, found %s", t.describe())
	}
	fuzz, fpos, fuzzy, err := p.tilde()
	if err != nil {
		return nil, err
	}
	var q Query
	switch {
	case fuzzy:
		if t.wild {
			return nil, p.errAt(fpos, "~ cannot follow a wildcard term")
		}
		if fuzz > 2 {
			return nil, p.errAt(fpos, "fuzziness must be 0, 1 or 2")
		}
		mk := func(path string, typ FieldType) (Query, error) {
			if typ != Text && typ != Keyword {
				return nil, p.errAt(t.pos, "fuzzy terms only work on text and keyword fields")
			}
			v := t.text
			if typ == Text {
				v = p.normalize(path, v)
			}
			n := fuzz
			if n < 0 {
				n = AutoFuzziness(v)
			}
			return Fuzzy{Field: path, Value: v, Fuzziness: n}, nil
		}
		if f == nil {
			if err := p.countExpansion(t, len(p.defaults())); err != nil {
				return nil, err
			}
			q, err = p.perDefault(t, mk)
		} else {
			if err := p.countExpansion(t, 1); err != nil {
				return nil, err
			}
			q, err = mk(f.path, f.typ)
		}
	case f == nil:
		if t.wild {
			if t.pattern == "*" {
				q = MatchAll{}
				break
			}
			if err := p.checkPattern(t); err != nil {
				return nil, err
			}
			if err := p.countExpansion(t, len(p.defaults())); err != nil {
				return nil, err
			}
			q, err = p.perDefault(t, func(path string, typ FieldType) (Query, error) {
				return p.wildcard(path, typ, t.pattern), nil
			})
			break
		}
		if len(p.defaults()) == 0 {
			return nil, p.errAt(t.pos, "no default search fields")
		}
		q = Match{Fields: p.defaults(), Text: t.text}
	case t.wild && t.pattern == "*":
		q = Exists{Field: f.path}
	case t.wild:
		if f.typ != Text && f.typ != Keyword {
			return nil, p.errAt(t.pos, "wildcards only work on text and keyword fields, %s is %s", f.name, f.typ)
		}
		if err := p.checkPattern(t); err != nil {
			return nil, err
		}
		if err := p.countExpansion(t, 1); err != nil {
			return nil, err
		}
		q = p.wildcard(f.path, f.typ, t.pattern)
	default:
		if op, rest := comparison(t); op != "" && t.pattern == t.text {
			q, err = p.compare(t, f, op, rest)
			break
		}
		if f.typ == Text {
			q = Match{Field: f.path, Text: t.text}
		} else {
			q, err = p.exact(t, f, t.text)
		}
	}
	if err != nil {
		return nil, err
	}
	return p.boost(q)
}

// comparison splits >=v, >v, <=v, <v.
func comparison(t token) (op, rest string) {
	for _, o := range []string{">=", "<=", ">", "<"} {
		if strings.HasPrefix(t.text, o) && len(t.text) > len(o) {
			return o, t.text[len(o):]
		}
	}
	return "", ""
}

// compare builds field:>v and its siblings as ranges, with OpenSearch's
// rounding for dates (gt and lte round up).
func (p *parser) compare(t token, f *fieldCtx, op, v string) (Query, error) {
	if f.typ != Number && f.typ != Date && f.typ != Keyword {
		return nil, p.errAt(t.pos, "%s only works on number, date and keyword fields, %s is %s", op, f.name, f.typ)
	}
	r := Range{Field: f.path, Kind: f.typ}
	upper := op[0] == '<'
	incl := len(op) == 2
	roundUp := (upper && incl) || (!upper && !incl) // lte, gt
	b, err := p.bound(f, v, roundUp)
	if err != nil {
		return nil, p.errAt(t.pos+len(op), "%v", err)
	}
	if upper {
		r.To, r.IncludeTo = b, incl
	} else {
		r.From, r.IncludeFrom = b, incl
	}
	return r, nil
}

func (p *parser) checkPattern(t token) error {
	if len(t.pattern) > MaxPatternLength {
		return p.errAt(t.pos, "wildcard pattern longer than %d bytes", MaxPatternLength)
	}
	n := 0
	for i := 0; i < len(t.pattern); i++ {
		switch t.pattern[i] {
		case '\\':
			i++
		case '*', '?':
			n++
		}
	}
	if n > MaxWildcards {
		return p.errAt(t.pos, "more than %d wildcards in one term", MaxWildcards)
	}
	return nil
}

// positions reports whether text field path supports phrase queries: false
// only for a field of the definition (Schema.Analysis entry of type Text)
// indexed without positions (index_options docs or freqs).
func (p *parser) positions(path string) bool {
	if p.schema != nil {
		if f, ok := p.schema.Analysis[path]; ok && f.Type == Text {
			return f.Positions
		}
	}
	return true
}

// multiWord reports whether a phrase certainly analyzes to more than one
// token: two runs of letters or digits separated by white space (always a
// token boundary). Other phrases are left to the engine, which refuses a
// multi-token phrase on a field without positions and runs a single token
// as a term, as OpenSearch does.
func multiWord(s string) bool {
	words := 0
	for _, w := range strings.Fields(s) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			words++
		}
	}
	return words > 1
}

func (p *parser) typeOf(path string) FieldType {
	if p.schema != nil {
		if t, ok := p.schema.Types[path]; ok {
			return t
		}
	}
	return Text
}

// normalize applies what the analyzer of text field path does to a single
// term (lowercase, ASCII folding), as OpenSearch normalizes wildcard, prefix
// and fuzzy terms.
func (p *parser) normalize(path, v string) string {
	lower, fold := true, false
	if p.schema != nil {
		if f, ok := p.schema.Analysis[path]; ok && f.Analyzer != "" {
			lower, fold = f.Lowercase, f.Fold
		}
	}
	if lower {
		v = strings.ToLower(v)
	}
	if fold {
		v = FoldASCII(v)
	}
	return v
}

func (p *parser) wildcard(path string, typ FieldType, pattern string) Query {
	if typ == Text {
		pattern = p.normalize(path, pattern)
	}
	// a single trailing * with no other wildcard is a prefix query
	if strings.HasSuffix(pattern, "*") && !strings.HasSuffix(pattern, `\*`) {
		body := pattern[:len(pattern)-1]
		if !strings.ContainsAny(body, "*?\\") {
			if body == "" {
				return Exists{Field: path}
			}
			return Prefix{Field: path, Value: body}
		}
	}
	return Wildcard{Field: path, Pattern: pattern}
}

// exact builds an exact-value query on a non-text field.
func (p *parser) exact(t token, f *fieldCtx, v string) (Query, error) {
	switch f.typ {
	case Keyword:
		return Term{Field: f.path, Value: v}, nil
	case Boolean:
		switch strings.ToLower(v) {
		case "true", "false":
			return Term{Field: f.path, Value: strings.ToLower(v)}, nil
		}
		return nil, p.errAt(t.pos, "%s is a boolean field: expected true or false", f.name)
	case Number:
		nv, err := p.bound(f, v, false)
		if err != nil {
			return nil, p.errAt(t.pos, "%v", err)
		}
		return Range{Field: f.path, Kind: Number, From: nv, To: nv, IncludeFrom: true, IncludeTo: true}, nil
	case Date:
		// OpenSearch: a date term is the range [v rounded down, v rounded up]
		from, err := p.bound(f, v, false)
		if err != nil {
			return nil, p.errAt(t.pos, "%v", err)
		}
		to, err := p.bound(f, v, true)
		if err != nil {
			return nil, p.errAt(t.pos, "%v", err)
		}
		return Range{Field: f.path, Kind: Date, From: from, To: to, IncludeFrom: true, IncludeTo: true}, nil
	}
	return nil, p.errAt(t.pos, "field %s (%s) cannot be queried by value", f.name, f.typ)
}

func (p *parser) parseRange(open token, f *fieldCtx) (Query, error) {
	if f.typ == Text || f.typ == Boolean || f.typ == Object {
		return nil, p.errAt(open.pos, "ranges only work on keyword, number and date fields, %s is %s", f.name, f.typ)
	}
	lo := p.next()
	if lo.kind != tWord && lo.kind != tPhrase {
		return nil, p.errAt(lo.pos, "expected a range start, found %s", lo.describe())
	}
	if to := p.next(); to.kind != tTo {
		return nil, p.errAt(to.pos, "expected TO in range, found %s", to.describe())
	}
	hi := p.next()
	if hi.kind != tWord && hi.kind != tPhrase {
		return nil, p.errAt(hi.pos, "expected a range end, found %s", hi.describe())
	}
	cl := p.next()
	if cl.kind != tRBracket {
		return nil, p.errAt(cl.pos, "expected ] or } to close the range, found %s", cl.describe())
	}
	r := Range{Field: f.path, Kind: f.typ, IncludeFrom: open.text == "[", IncludeTo: cl.text == "]"}
	var err error
	if lo.text != "*" {
		// gte rounds down, gt rounds up (OpenSearch)
		if r.From, err = p.bound(f, lo.text, !r.IncludeFrom); err != nil {
			return nil, p.errAt(lo.pos, "%v", err)
		}
	}
	if hi.text != "*" {
		// lte rounds up, lt rounds down
		if r.To, err = p.bound(f, hi.text, r.IncludeTo); err != nil {
			return nil, p.errAt(hi.pos, "%v", err)
		}
	}
	return r, nil
}

// bound normalizes a range bound or exact value of field f.
func (p *parser) bound(f *fieldCtx, v string, roundUp bool) (string, error) {
	switch f.typ {
	case Number:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%s is a number field: %q is not a number", f.name, v)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case Date:
		t, err := ResolveDate(v, roundUp, p.now())
		if err != nil {
			return "", fmt.Errorf("%s: %v", f.name, err)
		}
		return FormatDate(t), nil
	}
	return v, nil
}
