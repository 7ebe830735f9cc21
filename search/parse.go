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
	// Default lists the field paths searched by unqualified terms.
	Default []string
	// Types gives the type of each path (usually from the index definition);
	// unknown paths count as Text.
	Types map[string]FieldType
}

// Limits of the parser, so that user input cannot exhaust the server.
const (
	MaxQueryLength  = 4096
	maxQueryDepth   = 32
	maxQueryClauses = 1024
)

// Parse parses a Lucene-syntax query string into a Query:
//
//	word  "a phrase"  field:value  field:"phrase"  field:(a OR b)
//	a AND b  a OR b  NOT a  a && b  a || b  !a  +required  -excluded  ( ... )
//	field:[a TO b]  field:{a TO b]  field:[* TO b]  wild*card  te?t  \escaped
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
	p := &parser{toks: toks, schema: s, src: q}
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
	}
	return fmt.Sprintf("%q", t.text)
}

func isSpecial(r rune) bool {
	switch r {
	case '(', ')', ':', '"', '[', ']', '{', '}':
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
		return q, nil
	case tWord:
		if p.toks[p.i+1].kind == tColon {
			if f != nil {
				return nil, p.errAt(t.pos, "field inside a field group")
			}
			p.next()
			p.next()
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
				return q, nil
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

func (p *parser) parseValue(f *fieldCtx) (Query, error) {
	t := p.next()
	switch t.kind {
	case tLBracket:
		if f == nil {
			return nil, p.errAt(t.pos, "range needs a field (field:[a TO b])")
		}
		return p.parseRange(t, f)
	case tPhrase:
		if f == nil {
			if len(p.defaults()) == 0 {
				return nil, p.errAt(t.pos, "no default search fields")
			}
			return Phrase{Fields: p.defaults(), Text: t.text}, nil
		}
		switch f.typ {
		case Text:
			return Phrase{Field: f.path, Text: t.text}, nil
		default:
			return p.exact(t, f, t.text)
		}
	case tWord:
	default:
		return nil, p.errAt(t.pos, "expected a term, found %s", t.describe())
	}
	if f == nil {
		ds := p.defaults()
		if len(ds) == 0 {
			return nil, p.errAt(t.pos, "no default search fields")
		}
		if t.wild {
			var alts []Query
			for _, d := range ds {
				alts = append(alts, p.wildcard(d, p.typeOf(d), t.pattern))
			}
			if len(alts) == 1 {
				return alts[0], nil
			}
			return Bool{Should: alts}, nil
		}
		return Match{Fields: ds, Text: t.text}, nil
	}
	if t.wild {
		if f.typ != Text && f.typ != Keyword {
			return nil, p.errAt(t.pos, "wildcards only work on text and keyword fields, %s is %s", f.name, f.typ)
		}
		return p.wildcard(f.path, f.typ, t.pattern), nil
	}
	if f.typ == Text {
		return Match{Field: f.path, Text: t.text}, nil
	}
	return p.exact(t, f, t.text)
}

func (p *parser) typeOf(path string) FieldType {
	if p.schema != nil {
		if t, ok := p.schema.Types[path]; ok {
			return t
		}
	}
	return Text
}

func (p *parser) wildcard(path string, typ FieldType, pattern string) Query {
	if typ == Text {
		pattern = strings.ToLower(pattern)
	}
	// a single trailing * with no other wildcard is a prefix query
	if strings.HasSuffix(pattern, "*") && !strings.HasSuffix(pattern, `\*`) {
		body := pattern[:len(pattern)-1]
		if !strings.ContainsAny(body, "*?\\") {
			if body == "" {
				return MatchAll{}
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
	case Number, Date:
		nv, err := normalizeBound(f, v)
		if err != nil {
			return nil, p.errAt(t.pos, "%v", err)
		}
		if f.typ == Date && len(v) < 19 { // a day, month or year: the whole period
			from, to := datePeriod(v)
			return Range{Field: f.path, Kind: Date, From: from, To: to, IncludeFrom: true, IncludeTo: false}, nil
		}
		return Range{Field: f.path, Kind: f.typ, From: nv, To: nv, IncludeFrom: true, IncludeTo: true}, nil
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
	if f.typ == Keyword {
		r.Kind = Keyword
	}
	var err error
	if lo.text != "*" {
		if r.From, err = normalizeBound(f, lo.text); err != nil {
			return nil, p.errAt(lo.pos, "%v", err)
		}
	}
	if hi.text != "*" {
		if r.To, err = normalizeBound(f, hi.text); err != nil {
			return nil, p.errAt(hi.pos, "%v", err)
		}
	}
	return r, nil
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"}

// ParseDate parses the date forms accepted in queries (RFC 3339, or a
// 2006-01-02, 2006-01 or 2006 prefix), in UTC.
func ParseDate(v string) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date %q (use 2006, 2006-01, 2006-01-02 or RFC 3339)", v)
}

// datePeriod returns [start, end) of a year, month or day written as v.
func datePeriod(v string) (string, string) {
	t, _ := ParseDate(v)
	var end time.Time
	switch len(v) {
	case 4:
		end = t.AddDate(1, 0, 0)
	case 7:
		end = t.AddDate(0, 1, 0)
	default:
		end = t.AddDate(0, 0, 1)
	}
	return t.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
}

func normalizeBound(f *fieldCtx, v string) (string, error) {
	switch f.typ {
	case Number:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%s is a number field: %q is not a number", f.name, v)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case Date:
		t, err := ParseDate(v)
		if err != nil {
			return "", fmt.Errorf("%s: %v", f.name, err)
		}
		return t.Format(time.RFC3339Nano), nil
	}
	return v, nil
}
