package osfake

import (
	"fmt"
	"sort"
	"strconv"
)

func isStrKey(k any) bool {
	_, ok := k.(string)
	return ok
}

// cmpNum compares numeric keys (numbers, dates as epoch ms); 0 otherwise.
func cmpNum(a, b any) int {
	num := func(k any) (float64, bool) {
		switch x := k.(type) {
		case float64:
			return x, true
		case int64:
			return float64(x), true
		}
		return 0, false
	}
	x, ok1 := num(a)
	y, ok2 := num(b)
	switch {
	case !ok1 || !ok2 || x == y:
		return 0
	case x < y:
		return -1
	}
	return 1
}

// runAggs evaluates terms and filter aggregations (with sub-aggregations)
// over the matched documents.
func runAggs(req map[string]any, docs []*scored) (map[string]any, error) {
	out := map[string]any{}
	defer func() {
		for name, raw := range req {
			spec, _ := raw.(map[string]any)
			if m, ok := spec["meta"]; ok {
				if o, ok := out[name].(map[string]any); ok {
					o["meta"] = m
				}
			}
		}
	}()
	for name, raw := range req {
		spec, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("aggregation [%s] must be an object", name)
		}
		sub, _ := spec["aggs"].(map[string]any)
		if sub == nil {
			sub, _ = spec["aggregations"].(map[string]any)
		}
		switch {
		case spec["filter"] != nil:
			fq, _ := spec["filter"].(map[string]any)
			var in []*scored
			for _, d := range docs {
				ok, _, err := eval(fq, d.d, d.index)
				if err != nil {
					return nil, err
				}
				if ok {
					in = append(in, d)
				}
			}
			res := map[string]any{"doc_count": len(in)}
			if sub != nil {
				subRes, err := runAggs(sub, in)
				if err != nil {
					return nil, err
				}
				for k, v := range subRes {
					res[k] = v
				}
			}
			out[name] = res
		case spec["terms"] != nil:
			t, _ := spec["terms"].(map[string]any)
			if t["field"] == nil && t["script"] != nil {
				return nil, fmt.Errorf("osfake: scripts are not supported in aggregations")
			}
			if inc, ok := t["include"].(map[string]any); ok && inc["partition"] != nil {
				return nil, fmt.Errorf("osfake: terms partitions are not supported")
			}
			field := toString(t["field"])
			size := 10
			if f, ok := toFloat(t["size"]); ok {
				size = int(f)
			}
			type bucket struct {
				key   any
				str   string
				count int
				docs  []*scored
			}
			byKey := map[string]*bucket{}
			for _, d := range docs {
				typ := d.index.fields[field]
				if typ == "" || isText(typ) {
					continue
				}
				seen := map[string]bool{}
				for _, v := range values(d.d.parsed, field) {
					var key any
					var str string
					switch typ {
					case "keyword", "constant_keyword", "wildcard":
						str = toString(v)
						key = str
					case "boolean":
						if toBool(v) {
							key, str = 1, "true"
						} else {
							key, str = 0, "false"
						}
					case "date", "date_nanos":
						tm, ok := toTime(v)
						if !ok {
							continue
						}
						key, str = tm.UnixMilli(), tm.Format("2006-01-02T15:04:05.000Z")
					default:
						f, ok := toFloat(v)
						if !ok {
							continue
						}
						key, str = f, strconv.FormatFloat(f, 'f', -1, 64)
					}
					if seen[str] {
						continue
					}
					seen[str] = true
					b := byKey[str]
					if b == nil {
						b = &bucket{key: key, str: str}
						byKey[str] = b
					}
					b.count++
					b.docs = append(b.docs, d)
				}
			}
			var bs []*bucket
			for _, b := range byKey {
				bs = append(bs, b)
			}
			sort.Slice(bs, func(i, j int) bool {
				if bs[i].count != bs[j].count {
					return bs[i].count > bs[j].count
				}
				if c := cmpNum(bs[i].key, bs[j].key); c != 0 { // numbers and dates by value
					return c < 0
				}
				return bs[i].str < bs[j].str
			})
			other := 0
			if len(bs) > size {
				for _, b := range bs[size:] {
					other += b.count
				}
				bs = bs[:size]
			}
			var buckets []any
			for _, b := range bs {
				o := map[string]any{"key": b.key, "doc_count": b.count}
				if t["show_term_doc_count_error"] == true {
					o["doc_count_error_upper_bound"] = 0 // one shard: counts are exact
				}
				if _, isNum := b.key.(float64); !isNum && !isStrKey(b.key) { // OpenSearch: no key_as_string for plain numbers
					o["key_as_string"] = b.str
				}
				if sub != nil {
					subRes, err := runAggs(sub, b.docs)
					if err != nil {
						return nil, err
					}
					for k, v := range subRes {
						o[k] = v
					}
				}
				buckets = append(buckets, o)
			}
			if buckets == nil {
				buckets = []any{}
			}
			out[name] = map[string]any{"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets}
		default:
			res, ok, err := runMoreAggs(spec, sub, docs)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("osfake: unsupported aggregation [%s]", name)
			}
			out[name] = res
		}
	}
	return out, nil
}
