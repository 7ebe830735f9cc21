package osfake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/repokit/repokit/search"
)

// anySortFormInput is the body's sort in any of its forms (see
// sortClauses).
type anySortFormInput = any

type searchReq struct {
	Query          map[string]any   `json:"query"`
	PostFilter     map[string]any   `json:"post_filter"`
	From           int              `json:"from"`
	Size           *int             `json:"size"`
	Sort           anySortFormInput `json:"sort"`
	SearchAfter    []any            `json:"search_after"`
	TrackTotalHits any              `json:"track_total_hits"`
	TrackScores    bool             `json:"track_scores"`
	Version        bool             `json:"version"`
	SeqNoPrimary   bool             `json:"seq_no_primary_term"`
	Source         any              `json:"_source"`
	Aggs           map[string]any   `json:"aggs"`
	Aggregations   map[string]any   `json:"aggregations"`
	PIT            *struct {
		ID        string `json:"id"`
		KeepAlive string `json:"keep_alive"`
	} `json:"pit"`
}

type scored struct {
	d     *doc
	index *index
	score float64
	keys  []any
}

func (s *Server) search(name string, q url.Values, body []byte) (int, any, *httpError) {
	var req searchReq
	if e := decodeBody(body, &req); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type src struct {
		d  *doc
		ix *index
	}
	var docs []src
	pitID := ""
	if req.PIT != nil {
		if name != "" {
			return 0, nil, errf(400, "action_request_validation_exception", "Validation Failed: 1: [indices] cannot be used with point in time;")
		}
		p, ok := s.pits[req.PIT.ID]
		if !ok {
			return 0, nil, errf(404, "search_context_missing_exception", "No search context found for id [%s]", req.PIT.ID)
		}
		pitID = req.PIT.ID
		for _, d := range p.docs {
			var ix *index
			for n := range p.indices {
				ix = s.indices[n]
			}
			if ix == nil {
				return 0, nil, errf(404, "search_context_missing_exception", "index of point in time deleted")
			}
			docs = append(docs, src{d, ix})
		}
	} else {
		if name == "" {
			return 0, nil, errf(400, "illegal_argument_exception", "osfake: search needs an index in the path")
		}
		ixs, e := s.resolve(name)
		if e != nil {
			return 0, nil, e
		}
		for _, ix := range ixs {
			for _, q := range []map[string]any{req.Query, req.PostFilter} {
				if err := checkPhrases(q, ix); err != nil {
					return 0, nil, errf(400, "search_phase_execution_exception", "%v", err)
				}
			}
			ix.autoRefresh(s.RefreshInterval)
			for _, d := range ix.visible {
				docs = append(docs, src{d, ix})
			}
		}
	}
	size := 10
	if req.Size != nil {
		size = *req.Size
	}
	sorts, serr := sortClauses(req.Sort, q.Get("sort"))
	if serr != nil {
		return 0, nil, serr
	}
	if len(req.SearchAfter) > 0 && req.From > 0 {
		return 0, nil, errf(400, "illegal_argument_exception", "`from` parameter must be set to 0 when `search_after` is used")
	}
	if req.From+size > 10000 {
		return 0, nil, errf(400, "illegal_argument_exception", "Result window is too large, from + size must be less than or equal to: [10000]")
	}
	if len(req.SearchAfter) > 0 && len(req.SearchAfter) != len(sorts) {
		return 0, nil, errf(400, "illegal_argument_exception", "search_after has %d value(s) but sort has %d", len(req.SearchAfter), len(sorts))
	}
	var matched []*scored
	for _, x := range docs {
		ok, sc, err := eval(req.Query, x.d, x.ix)
		if err != nil {
			return 0, nil, errf(400, "search_phase_execution_exception", "%v", err)
		}
		if ok {
			matched = append(matched, &scored{d: x.d, index: x.ix, score: sc})
		}
	}
	aggsReq := req.Aggs
	if aggsReq == nil {
		aggsReq = req.Aggregations
	}
	var aggs map[string]any
	if len(aggsReq) > 0 {
		var err error
		if aggs, err = runAggs(aggsReq, matched); err != nil {
			return 0, nil, errf(400, "search_phase_execution_exception", "%v", err)
		}
	}
	hits := matched
	if req.PostFilter != nil {
		hits = hits[:0:0]
		for _, m := range matched {
			ok, _, err := eval(req.PostFilter, m.d, m.index)
			if err != nil {
				return 0, nil, errf(400, "search_phase_execution_exception", "%v", err)
			}
			if ok {
				hits = append(hits, m)
			}
		}
	}
	total := len(hits)
	// sort
	type sortSpec struct {
		field string
		desc  bool
		raw   map[string]any
	}
	var specs []sortSpec
	scoreSorted := len(sorts) == 0
	for _, so := range sorts {
		for f, v := range so {
			sp := sortSpec{field: f}
			switch o := v.(type) {
			case string:
				sp.desc = o == "desc"
			case map[string]any:
				sp.desc = o["order"] == "desc"
				sp.raw = o
				if m, ok := o["missing"]; ok && m != "_last" {
					return 0, nil, errf(400, "illegal_argument_exception", "osfake supports missing: _last only")
				}
			}
			if f == "_score" {
				scoreSorted = true
			}
			specs = append(specs, sp)
		}
	}
	if len(specs) == 0 {
		specs = []sortSpec{{field: "_score", desc: true}}
	}
	for _, h := range hits {
		h.keys = make([]any, len(specs))
		for i, sp := range specs {
			switch sp.field {
			case "_score":
				h.keys[i] = h.score
			case "_id":
				h.keys[i] = h.d.id
			case "_doc", "_shard_doc":
				h.keys[i] = h.d.id
			case "_geo_distance":
				k, err := geoSortKey(h.d, h.index, sp.raw, sp.desc)
				if err != nil {
					return 0, nil, errf(400, "illegal_argument_exception", "%v", err)
				}
				h.keys[i] = k
			default:
				h.keys[i] = sortKey(h.d, h.index, sp.field, sp.desc)
			}
		}
	}
	less := func(a, b []any) bool {
		for i, sp := range specs {
			c := cmpKey(a[i], b[i])
			if c == 0 {
				continue
			}
			if a[i] == nil || b[i] == nil { // missing last in both orders
				return c < 0
			}
			if sp.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	}
	sort.SliceStable(hits, func(i, j int) bool { return less(hits[i].keys, hits[j].keys) })
	if len(req.SearchAfter) > 0 {
		after := make([]any, len(req.SearchAfter))
		for i, v := range req.SearchAfter {
			after[i] = normAfter(v)
		}
		k := sort.Search(len(hits), func(i int) bool { return less(after, hits[i].keys) })
		hits = hits[k:]
	} else if req.From < len(hits) {
		hits = hits[req.From:]
	} else {
		hits = nil
	}
	if len(hits) > size {
		hits = hits[:size]
	}
	withSource := true
	if b, ok := req.Source.(bool); ok && !b {
		withSource = false
	}
	outHits := make([]any, 0, len(hits))
	for _, h := range hits {
		o := map[string]any{"_index": h.index.name, "_id": h.d.id}
		if scoreSorted || req.TrackScores {
			o["_score"] = h.score
		} else {
			o["_score"] = nil
		}
		if req.Version {
			o["_version"] = h.d.version
		}
		if req.SeqNoPrimary || q.Get("seq_no_primary_term") == "true" {
			o["_seq_no"], o["_primary_term"] = h.d.seqNo, 1
		}
		if withSource {
			o["_source"] = h.d.source
		}
		if len(sorts) > 0 {
			o["sort"] = h.keys
		}
		outHits = append(outHits, o)
	}
	// max_score: the best score of all hits when scores are computed
	var maxScore any
	if (scoreSorted || req.TrackScores) && size > 0 && total > 0 {
		best := math.Inf(-1)
		for _, h := range matched {
			best = math.Max(best, h.score)
		}
		maxScore = best
	}
	out := map[string]any{
		"took": 1, "timed_out": false,
		"_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"hits":    map[string]any{"total": map[string]any{"value": total, "relation": "eq"}, "max_score": maxScore, "hits": outHits},
	}
	hm := out["hits"].(map[string]any)
	// track_total_hits: N counts up to N ("gte" beyond); false omits it
	if n, ok := toFloat(req.TrackTotalHits); ok && total > int(n) {
		hm["total"] = map[string]any{"value": int(n), "relation": "gte"}
	} else if b, ok := req.TrackTotalHits.(bool); ok && !b {
		delete(hm, "total")
	}
	if q.Get("rest_total_hits_as_int") == "true" {
		if tm, ok := hm["total"].(map[string]any); ok {
			hm["total"] = tm["value"]
		}
	}
	if aggs != nil {
		out["aggregations"] = aggs
	}
	if pitID != "" {
		out["pit_id"] = pitID
	}
	return 200, out, nil
}

func normAfter(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

// sortKey is the sort value of a field: the min (asc) or max (desc) of its
// values; dates as epoch milliseconds, booleans as 0/1, nil when missing.
func sortKey(d *doc, ix *index, field string, desc bool) any {
	typ := ix.fields[field]
	var best any
	for _, v := range values(d.parsed, field) {
		var k any
		switch typ {
		case "keyword", "constant_keyword", "wildcard":
			k = toString(v)
		case "date", "date_nanos":
			t, ok := toTime(v)
			if !ok {
				continue
			}
			k = float64(t.UnixMilli())
		case "boolean":
			if toBool(v) {
				k = 1.0
			} else {
				k = 0.0
			}
		case "text", "match_only_text", "":
			continue // not sortable (fielddata disabled)
		default:
			f, ok := toFloat(v)
			if !ok {
				continue
			}
			k = f
		}
		if best == nil || (desc && cmpKey(k, best) > 0) || (!desc && cmpKey(k, best) < 0) {
			best = k
		}
	}
	return best
}

func cmpKey(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		y, ok := b.(string)
		if !ok {
			return strings.Compare(x, fmt.Sprint(b))
		}
		return strings.Compare(x, y)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// values returns the values at a dotted path, flattening arrays.
func values(m map[string]any, path string) []any {
	var out []any
	var walk func(v any, parts []string)
	walk = func(v any, parts []string) {
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				walk(e, parts)
			}
			return
		}
		if len(parts) == 0 {
			if v != nil {
				out = append(out, v)
			}
			return
		}
		if mm, ok := v.(map[string]any); ok {
			if next, ok := mm[parts[0]]; ok {
				walk(next, parts[1:])
			}
		} else if len(parts) == 1 && v != nil {
			// a multi-field (title.keyword) reads its parent's value;
			// callers only ask for mapped paths
			out = append(out, v)
		}
	}
	walk(m, strings.Split(path, "."))
	return out
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func toBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// toTime parses a date value in OpenSearch's default format
// (strict_date_optional_time||epoch_millis).
func toTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		t, err := search.ParseDate(x)
		return t, err == nil
	case float64:
		if x == math.Trunc(x) {
			return time.UnixMilli(int64(x)).UTC(), true
		}
	case json.Number:
		if ms, err := x.Int64(); err == nil {
			return time.UnixMilli(ms).UTC(), true
		}
	}
	return time.Time{}, false
}

func isText(typ string) bool { return typ == "text" || typ == "match_only_text" }

// single unwraps {"field": spec}.
func single(v any) (string, any, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, fmt.Errorf("query must name exactly one field")
	}
	for k, x := range m {
		return k, x, nil
	}
	return "", nil, nil
}

func param(spec any, key string) any {
	if m, ok := spec.(map[string]any); ok {
		return m[key]
	}
	if key == "value" || key == "query" {
		return spec
	}
	return nil
}

// eval evaluates a query DSL node on a document.
func eval(q map[string]any, d *doc, ix *index) (bool, float64, error) {
	if q == nil {
		return true, 1, nil
	}
	if len(q) != 1 {
		return false, 0, fmt.Errorf("query object must have exactly one key, got %d", len(q))
	}
	for kind, body := range q {
		switch kind {
		case "match_all":
			return true, 1, nil
		case "match_none":
			return false, 0, nil
		case "term":
			f, spec, err := single(body)
			if err != nil {
				return false, 0, err
			}
			ok := termMatch(d, ix, f, toString(param(spec, "value")))
			return ok, b2f(ok), nil
		case "terms":
			m, _ := body.(map[string]any)
			for f, vs := range m {
				arr, _ := vs.([]any)
				for _, v := range arr {
					if termMatch(d, ix, f, toString(v)) {
						return true, 1, nil
					}
				}
			}
			return false, 0, nil
		case "match", "match_phrase":
			f, spec, err := single(body)
			if err != nil {
				return false, 0, err
			}
			slop := -1
			if kind == "match_phrase" {
				slop = 0
				if v, ok := toFloat(param(spec, "slop")); ok {
					slop = int(v)
				}
			}
			sc := textMatch(d, ix, f, toString(param(spec, "query")), slop)
			return sc > 0, sc, nil
		case "multi_match":
			m, _ := body.(map[string]any)
			fs, _ := m["fields"].([]any)
			slop := -1
			if m["type"] == "phrase" {
				slop = 0
				if v, ok := toFloat(m["slop"]); ok {
					slop = int(v)
				}
			}
			best := 0.0
			for _, f := range fs {
				best = math.Max(best, textMatch(d, ix, toString(f), toString(m["query"]), slop))
			}
			return best > 0, best, nil
		case "exists":
			m, _ := body.(map[string]any)
			f := toString(m["field"])
			if ix.fields[f] == "" {
				return false, 0, nil
			}
			for _, v := range values(d.parsed, f) {
				if ix.hasValue(f, v) {
					return true, 1, nil
				}
			}
			return false, 0, nil
		case "ids":
			m, _ := body.(map[string]any)
			vs, _ := m["values"].([]any)
			for _, v := range vs {
				if toString(v) == d.id {
					return true, 1, nil
				}
			}
			return false, 0, nil
		case "fuzzy":
			f, spec, err := single(body)
			if err != nil {
				return false, 0, err
			}
			want := toString(param(spec, "value"))
			n := 2
			switch fz := param(spec, "fuzziness").(type) {
			case nil:
				n = search.AutoFuzziness(want)
			case string:
				if strings.EqualFold(fz, "AUTO") {
					n = search.AutoFuzziness(want)
				} else if x, err := strconv.Atoi(fz); err == nil {
					n = x
				}
			default:
				if x, ok := toFloat(fz); ok {
					n = int(x)
				}
			}
			if n < 0 || n > 2 {
				return false, 0, fmt.Errorf("fuzziness must be 0, 1, 2 or AUTO")
			}
			for _, v := range values(d.parsed, f) {
				var cands []string
				switch {
				case isText(ix.fields[f]):
					cands = ix.terms(f, toString(v))
				case ix.fields[f] == "keyword":
					cands = []string{toString(v)}
				}
				for _, c := range cands {
					if osaDistance(c, want) <= n {
						return true, 1, nil
					}
				}
			}
			return false, 0, nil
		case "prefix", "wildcard":
			f, spec, err := single(body)
			if err != nil {
				return false, 0, err
			}
			pat := toString(param(spec, "value"))
			var re *regexp.Regexp
			if kind == "prefix" {
				re = regexp.MustCompile("^" + regexp.QuoteMeta(pat))
			} else {
				re = wildcardRe(pat)
			}
			for _, v := range values(d.parsed, f) {
				if isText(ix.fields[f]) {
					for _, tok := range ix.terms(f, toString(v)) {
						if re.MatchString(tok) {
							return true, 1, nil
						}
					}
				} else if ix.fields[f] != "" && re.MatchString(toString(v)) {
					return true, 1, nil
				}
			}
			return false, 0, nil
		case "range":
			f, spec, err := single(body)
			if err != nil {
				return false, 0, err
			}
			ok, err := rangeMatch(d, ix, f, spec)
			return ok, b2f(ok), err
		case "bool":
			return evalBool(body, d, ix)
		default:
			if ok, known, err := evalGeo(kind, body, d, ix); known {
				return ok, b2f(ok), err
			}
			return false, 0, fmt.Errorf("osfake: unsupported query [%s]", kind)
		}
	}
	return false, 0, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func evalBool(body any, d *doc, ix *index) (bool, float64, error) {
	m, ok := body.(map[string]any)
	if !ok {
		return false, 0, fmt.Errorf("bool query must be an object")
	}
	clauses := func(key string) []map[string]any {
		var out []map[string]any
		switch v := m[key].(type) {
		case []any:
			for _, c := range v {
				if cm, ok := c.(map[string]any); ok {
					out = append(out, cm)
				}
			}
		case map[string]any:
			out = append(out, v)
		}
		return out
	}
	score := 0.0
	for _, c := range clauses("must") {
		ok, sc, err := eval(c, d, ix)
		if err != nil || !ok {
			return false, 0, err
		}
		score += sc
	}
	for _, c := range clauses("filter") {
		ok, _, err := eval(c, d, ix)
		if err != nil || !ok {
			return false, 0, err
		}
	}
	for _, c := range clauses("must_not") {
		ok, _, err := eval(c, d, ix)
		if err != nil {
			return false, 0, err
		}
		if ok {
			return false, 0, nil
		}
	}
	should := clauses("should")
	minShould := 0
	if len(clauses("must")) == 0 && len(clauses("filter")) == 0 && len(should) > 0 {
		minShould = 1
	}
	if v, ok := m["minimum_should_match"]; ok {
		f, _ := toFloat(v)
		minShould = int(f)
	}
	n := 0
	for _, c := range should {
		ok, sc, err := eval(c, d, ix)
		if err != nil {
			return false, 0, err
		}
		if ok {
			n++
			score += sc
		}
	}
	if n < minShould {
		return false, 0, nil
	}
	if score == 0 {
		score = 1
	}
	return true, score, nil
}

func termMatch(d *doc, ix *index, f, want string) bool {
	typ := ix.fields[f]
	if typ == "" {
		return false
	}
	for _, v := range values(d.parsed, f) {
		switch {
		case isText(typ):
			for _, tok := range ix.terms(f, toString(v)) {
				if tok == want {
					return true
				}
			}
		case typ == "boolean":
			if strconv.FormatBool(toBool(v)) == want {
				return true
			}
		case typ == "date" || typ == "date_nanos":
			a, ok1 := toTime(v)
			b, ok2 := toTime(want)
			if ok1 && ok2 && a.Equal(b) {
				return true
			}
		case typ == "keyword" || typ == "constant_keyword" || typ == "wildcard":
			if toString(v) == want {
				return true
			}
		default:
			a, ok1 := toFloat(v)
			b, ok2 := toFloat(want)
			if ok1 && ok2 && a == b {
				return true
			}
		}
	}
	return false
}

// checkPhrases refuses, as OpenSearch does when it builds the query, a
// phrase of more than one token on a text field indexed without positions
// (index_options docs or freqs), wherever it sits in the query.
func checkPhrases(q any, ix *index) error {
	switch q := q.(type) {
	case []any:
		for _, x := range q {
			if err := checkPhrases(x, ix); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, body := range q {
			var fields []string
			var text string
			switch k {
			case "match_phrase":
				if f, spec, err := single(body); err == nil {
					fields, text = []string{f}, toString(param(spec, "query"))
				}
			case "multi_match":
				if m, ok := body.(map[string]any); ok && m["type"] == "phrase" {
					fs, _ := m["fields"].([]any)
					for _, f := range fs {
						fields = append(fields, toString(f))
					}
					text = toString(m["query"])
				}
			}
			for _, f := range fields {
				if isText(ix.fields[f]) && ix.analyzer(f).noPositions && len(ix.terms(f, text)) > 1 {
					return fmt.Errorf("failed to create query: field:[%s] was indexed without position data; cannot run PhraseQuery (phrase=%s:\"%s\")", f, f, text)
				}
			}
			if err := checkPhrases(body, ix); err != nil {
				return err
			}
		}
	}
	return nil
}

// textMatch scores a match (slop < 0, operator and) or a match_phrase with
// slop on one field. A sloppy phrase matches when distinct positions p_k of
// the phrase's terms have max(p_k-k) - min(p_k-k) <= slop (Lucene), within
// one value of the field (OpenSearch's position_increment_gap of 100 keeps
// values apart for smaller slops).
func textMatch(d *doc, ix *index, f, query string, slop int) float64 {
	typ := ix.fields[f]
	if typ == "" {
		return 0
	}
	if !isText(typ) {
		if termMatch(d, ix, f, query) {
			return 1
		}
		return 0
	}
	qt := ix.terms(f, query)
	if len(qt) == 0 {
		return 0
	}
	best := 0.0
	for _, v := range values(d.parsed, f) {
		toks := ix.terms(f, toString(v))
		if slop >= 0 {
			pos := map[string][]int{}
			for i, t := range toks {
				pos[t] = append(pos[t], i)
			}
			if sloppy(qt, pos, slop) {
				best = math.Max(best, float64(len(qt))+1/float64(len(toks)))
			}
			continue
		}
		sc := 0.0
		all := true
		for _, t := range qt {
			tf := 0
			for _, tok := range toks {
				if tok == t {
					tf++
				}
			}
			if tf == 0 {
				all = false
				break
			}
			sc += float64(tf) / math.Sqrt(float64(len(toks)))
		}
		if all {
			best = math.Max(best, sc)
		}
	}
	return best
}

func sloppy(qt []string, pos map[string][]int, slop int) bool {
	for _, t := range qt {
		if len(pos[t]) == 0 {
			return false
		}
	}
	for k0, t0 := range qt {
		for _, p0 := range pos[t0] {
			base := p0 - k0
			used := map[int]bool{}
			ok := true
			for k, t := range qt {
				found := false
				for _, p := range pos[t] {
					if d := p - k; d >= base && d <= base+slop && !used[p] {
						used[p], found = true, true
						break
					}
				}
				if !found {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func wildcardRe(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func rangeMatch(d *doc, ix *index, f string, spec any) (bool, error) {
	m, ok := spec.(map[string]any)
	if !ok {
		return false, fmt.Errorf("range on [%s] must be an object", f)
	}
	typ := ix.fields[f]
	if typ == "" {
		return false, nil
	}
	cmp := func(v, bound any, op string) (int, bool) {
		switch {
		case typ == "date" || typ == "date_nanos":
			a, ok1 := toTime(v)
			// OpenSearch: date math and missing components round up for gt
			// and lte, down for gte and lt
			b, ok2 := toTime(bound)
			if bs, isStr := bound.(string); isStr {
				t, err := search.ResolveDate(bs, op == "gt" || op == "lte", time.Now())
				b, ok2 = t, err == nil
			}
			if !ok1 || !ok2 {
				return 0, false
			}
			return a.Compare(b), true
		case typ == "keyword" || isText(typ):
			return strings.Compare(toString(v), toString(bound)), true
		default:
			a, ok1 := toFloat(v)
			b, ok2 := toFloat(bound)
			if !ok1 || !ok2 {
				return 0, false
			}
			switch {
			case a < b:
				return -1, true
			case a > b:
				return 1, true
			}
			return 0, true
		}
	}
	for _, v := range values(d.parsed, f) {
		okAll := true
		for op, bound := range m {
			c, ok := cmp(v, bound, op)
			if !ok {
				okAll = false
				break
			}
			switch op {
			case "gte":
				okAll = c >= 0
			case "gt":
				okAll = c > 0
			case "lte":
				okAll = c <= 0
			case "lt":
				okAll = c < 0
			case "format", "time_zone":
			default:
				return false, fmt.Errorf("osfake: unsupported range parameter [%s]", op)
			}
			if !okAll {
				break
			}
		}
		if okAll {
			return true, nil
		}
	}
	return false, nil
}
