package osfake

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/repokit/repokit/search"
)

// runMoreAggs evaluates the aggregations beyond terms and filter: histogram,
// date_histogram, range, date_range, min, max, avg, sum, stats,
// cardinality, value_count, geohash_grid, global-less nested (doc count of
// the path). ok is false for an aggregation type the fake does not know.
func runMoreAggs(spec, sub map[string]any, docs []*scored) (any, bool, error) {
	for _, kind := range []string{"histogram", "date_histogram", "range", "date_range", "min", "max", "avg", "sum", "stats",
		"cardinality", "value_count", "geohash_grid", "nested"} {
		body, ok := spec[kind].(map[string]any)
		if !ok {
			continue
		}
		field := toString(body["field"])
		if body["field"] == nil && kind != "nested" {
			if body["script"] != nil {
				return nil, true, fmt.Errorf("osfake: scripts are not supported in aggregations")
			}
			return nil, true, osError("Required [field]")
		}
		switch kind {
		case "histogram", "date_histogram":
			res, err := histogramAgg(kind, field, body, sub, docs)
			return res, true, err
		case "range", "date_range":
			res, err := rangeAgg(kind, field, body, sub, docs)
			return res, true, err
		case "min", "max", "avg", "sum", "stats":
			return metricAgg(kind, field, docs), true, nil
		case "cardinality", "value_count":
			seen := map[string]bool{}
			n := 0
			for _, d := range docs {
				for _, v := range fieldNums(d, field) {
					seen["n"+strconv.FormatFloat(v, 'g', -1, 64)] = true
					n++
				}
				if isKeywordType(d.index.fields[field]) {
					for _, v := range values(d.d.parsed, field) {
						seen["s"+toString(v)] = true
						n++
					}
				}
			}
			if kind == "value_count" {
				return map[string]any{"value": n}, true, nil
			}
			return map[string]any{"value": len(seen)}, true, nil
		case "geohash_grid":
			res, err := geohashAgg(field, body, sub, docs)
			return res, true, err
		case "nested":
			path := toString(body["path"])
			n := 0
			for _, d := range docs {
				if len(values(d.d.parsed, path)) > 0 {
					n++
				}
			}
			return map[string]any{"doc_count": n}, true, nil
		}
	}
	return nil, false, nil
}

func isKeywordType(t string) bool {
	return t == "keyword" || t == "constant_keyword" || t == "wildcard"
}

func isDateType(t string) bool { return t == "date" || t == "date_nanos" }

// fieldNums returns the numeric values of a number, date (epoch ms) or
// boolean (1/0) field of a document.
func fieldNums(d *scored, field string) []float64 {
	typ := d.index.fields[field]
	var out []float64
	for _, v := range values(d.d.parsed, field) {
		switch {
		case typ == "" || isText(typ) || isKeywordType(typ) || typ == "geo_point":
		case isDateType(typ):
			if t, ok := toTime(v); ok {
				out = append(out, float64(t.UnixMilli()))
			}
		case typ == "boolean":
			out = append(out, b2f(toBool(v)))
		default:
			if f, ok := toFloat(v); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

func fieldIsDate(docs []*scored, field string) bool {
	for _, d := range docs {
		if isDateType(d.index.fields[field]) {
			return true
		}
	}
	return false
}

func dateString(ms float64) string {
	return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02T15:04:05.000Z")
}

func withSub(o map[string]any, sub map[string]any, docs []*scored) error {
	if sub == nil {
		return nil
	}
	res, err := runAggs(sub, docs)
	if err != nil {
		return err
	}
	for k, v := range res {
		o[k] = v
	}
	return nil
}

// decimalFormat applies a Java DecimalFormat pattern's decimal places
// (e.g. "##0.0") to v.
func decimalFormat(pattern string, v float64) string {
	dec := 0
	if i := strings.IndexByte(pattern, '.'); i >= 0 {
		dec = len(pattern) - i - 1
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

func calendarOf(s string) (search.Calendar, bool) {
	switch s {
	case "year", "1y":
		return search.Year, true
	case "quarter", "1q":
		return search.Quarter, true
	case "month", "1M":
		return search.Month, true
	case "week", "1w":
		return search.Week, true
	case "day", "1d":
		return search.Day, true
	case "hour", "1h":
		return search.Hour, true
	}
	return "", false
}

func histogramAgg(kind, field string, body, sub map[string]any, docs []*scored) (any, error) {
	var keyOf func(float64) float64
	var next func(float64) float64
	if kind == "histogram" {
		iv, ok := toFloat(body["interval"])
		if !ok || iv <= 0 {
			return nil, fmt.Errorf("[interval] must be >0 for histogram aggregation [%s]", field)
		}
		off, _ := toFloat(body["offset"])
		keyOf = func(v float64) float64 { return math.Floor((v-off)/iv)*iv + off }
		next = func(k float64) float64 { return k + iv }
	} else {
		ci := toString(body["calendar_interval"])
		if body["calendar_interval"] == nil {
			ci = toString(body["interval"])
		}
		c, ok := calendarOf(ci)
		if !ok {
			if fi, ok2 := body["fixed_interval"]; ok2 {
				d, err := fixedInterval(toString(fi))
				if err != nil {
					return nil, err
				}
				ms := float64(d.Milliseconds())
				keyOf = func(v float64) float64 { return math.Floor(v/ms) * ms }
				next = func(k float64) float64 { return k + ms }
			} else {
				return nil, osError("The supplied interval [%s] could not be parsed as a calendar interval.", ci)
			}
		} else {
			keyOf = func(v float64) float64 {
				t, _ := search.CalendarFloor(c, time.UnixMilli(int64(v)))
				return float64(t.UnixMilli())
			}
			next = func(k float64) float64 {
				return float64(search.CalendarNext(c, time.UnixMilli(int64(k)).UTC()).UnixMilli())
			}
		}
	}
	minDoc := 0
	if kind == "histogram" || kind == "date_histogram" {
		if f, ok := toFloat(body["min_doc_count"]); ok {
			minDoc = int(f)
		}
	}
	groups := map[float64][]*scored{}
	for _, d := range docs {
		seen := map[float64]bool{}
		for _, v := range fieldNums(d, field) {
			k := keyOf(v)
			if !seen[k] {
				seen[k] = true
				groups[k] = append(groups[k], d)
			}
		}
	}
	var keys []float64
	if len(groups) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for k := range groups {
			lo, hi = math.Min(lo, k), math.Max(hi, k)
		}
		if minDoc == 0 {
			for k := lo; k <= hi; k = next(k) {
				keys = append(keys, k)
			}
		} else {
			for k := range groups {
				keys = append(keys, k)
			}
			sort.Float64s(keys)
		}
	}
	format, _ := body["format"].(string)
	buckets := []any{}
	for _, k := range keys {
		if len(groups[k]) < minDoc {
			continue
		}
		o := map[string]any{"key": k, "doc_count": len(groups[k])}
		if kind == "date_histogram" {
			o["key"] = int64(k)
			o["key_as_string"] = dateString(k)
		} else if format != "" {
			o["key_as_string"] = decimalFormat(format, k)
		}
		if err := withSub(o, sub, groups[k]); err != nil {
			return nil, err
		}
		buckets = append(buckets, o)
	}
	return map[string]any{"buckets": buckets}, nil
}

func fixedInterval(s string) (time.Duration, error) {
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	for _, u := range []string{"ms", "s", "m", "h", "d"} {
		if strings.HasSuffix(s, u) {
			n, err := strconv.Atoi(strings.TrimSuffix(s, u))
			if err == nil && n > 0 {
				return time.Duration(n) * units[u], nil
			}
		}
	}
	return 0, fmt.Errorf("failed to parse setting [date_histogram.fixedInterval] with value [%s]", s)
}

func rangeAgg(kind, field string, body, sub map[string]any, docs []*scored) (any, error) {
	rs, _ := body["ranges"].([]any)
	if len(rs) == 0 {
		return nil, osError("No [ranges] specified for the [%s] aggregation", kind)
	}
	isDate := kind == "date_range" || fieldIsDate(docs, field)
	bound := func(v any) (*float64, error) {
		if v == nil {
			return nil, nil
		}
		if isDate {
			if t, ok := toTime(v); ok {
				f := float64(t.UnixMilli())
				return &f, nil
			}
			if f, ok := toFloat(v); ok {
				return &f, nil
			}
			return nil, fmt.Errorf("failed to parse date field [%v]", v)
		}
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("[%s] range bound [%v] is not a number", kind, v)
		}
		return &f, nil
	}
	type rg struct {
		key      string
		from, to *float64
	}
	var list []rg
	for _, r := range rs {
		m, _ := r.(map[string]any)
		from, err := bound(m["from"])
		if err != nil {
			return nil, err
		}
		to, err := bound(m["to"])
		if err != nil {
			return nil, err
		}
		list = append(list, rg{key: toStringOr(m["key"]), from: from, to: to})
	}
	// OpenSearch orders the ranges by from, then to
	sort.SliceStable(list, func(i, j int) bool {
		a, b := math.Inf(-1), math.Inf(-1)
		if list[i].from != nil {
			a = *list[i].from
		}
		if list[j].from != nil {
			b = *list[j].from
		}
		if a != b {
			return a < b
		}
		a, b = math.Inf(1), math.Inf(1)
		if list[i].to != nil {
			a = *list[i].to
		}
		if list[j].to != nil {
			b = *list[j].to
		}
		return a < b
	})
	keyed, _ := body["keyed"].(bool)
	var arr []any
	kobj := map[string]any{}
	rk := search.AggRange
	if isDate {
		rk = search.AggDateRange
	}
	for _, r := range list {
		var in []*scored
		for _, d := range docs {
			for _, v := range fieldNums(d, field) {
				if (r.from == nil || v >= *r.from) && (r.to == nil || v < *r.to) {
					in = append(in, d)
					break
				}
			}
		}
		key := r.key
		if key == "" {
			key = search.RangeKey(rk, r.from, r.to)
		}
		o := map[string]any{"doc_count": len(in)}
		if !keyed {
			o["key"] = key
		}
		if r.from != nil {
			o["from"] = *r.from
			if isDate {
				o["from_as_string"] = dateString(*r.from)
			}
		}
		if r.to != nil {
			o["to"] = *r.to
			if isDate {
				o["to_as_string"] = dateString(*r.to)
			}
		}
		if err := withSub(o, sub, in); err != nil {
			return nil, err
		}
		arr = append(arr, o)
		kobj[key] = o
	}
	if keyed {
		return map[string]any{"buckets": kobj}, nil
	}
	return map[string]any{"buckets": arr}, nil
}

func toStringOr(v any) string {
	if v == nil {
		return ""
	}
	return toString(v)
}

func metricAgg(kind, field string, docs []*scored) any {
	var n int
	var lo, hi, sum float64
	for _, d := range docs {
		for _, v := range fieldNums(d, field) {
			if n == 0 || v < lo {
				lo = v
			}
			if n == 0 || v > hi {
				hi = v
			}
			sum += v
			n++
		}
	}
	isDate := fieldIsDate(docs, field)
	val := func(v float64, ok bool) map[string]any {
		if !ok {
			return map[string]any{"value": nil}
		}
		o := map[string]any{"value": v}
		if isDate {
			o["value_as_string"] = dateString(v)
		}
		return o
	}
	switch kind {
	case "min":
		return val(lo, n > 0)
	case "max":
		return val(hi, n > 0)
	case "avg":
		return val(sum/float64(n), n > 0)
	case "sum":
		return map[string]any{"value": sum}
	}
	o := map[string]any{"count": n, "min": nil, "max": nil, "avg": nil, "sum": sum}
	if n > 0 {
		o["min"], o["max"], o["avg"] = lo, hi, sum/float64(n)
		if isDate {
			o["min_as_string"], o["max_as_string"] = dateString(lo), dateString(hi)
		}
	}
	return o
}

func geohashAgg(field string, body, sub map[string]any, docs []*scored) (any, error) {
	prec := 5
	if f, ok := toFloat(body["precision"]); ok {
		prec = int(f)
	}
	if prec < 1 || prec > 12 {
		return nil, osError("Invalid geohash aggregation precision of %d. Must be between 1 and 12.", prec)
	}
	size := 10000
	if f, ok := toFloat(body["size"]); ok {
		size = int(f)
	}
	groups := map[string][]*scored{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, p := range docPoints(d, field) {
			h := search.Geohash(p, prec)
			if !seen[h] {
				seen[h] = true
				groups[h] = append(groups[h], d)
			}
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(groups[keys[i]]) != len(groups[keys[j]]) {
			return len(groups[keys[i]]) > len(groups[keys[j]])
		}
		return keys[i] < keys[j]
	})
	if len(keys) > size {
		keys = keys[:size]
	}
	buckets := []any{}
	for _, k := range keys {
		o := map[string]any{"key": k, "doc_count": len(groups[k])}
		if err := withSub(o, sub, groups[k]); err != nil {
			return nil, err
		}
		buckets = append(buckets, o)
	}
	return map[string]any{"buckets": buckets}, nil
}

// osError is an error whose message is OpenSearch's own wording (which
// starts with a capital and may end with a period).
func osError(format string, args ...any) error { return fmt.Errorf(format, args...) }
