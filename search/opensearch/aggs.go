package opensearch

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/repokit/repokit/search"
)

// aggBody renders one portable aggregation in the query DSL.
func aggBody(a search.Agg) (obj, error) {
	var o obj
	switch a.Kind {
	case search.AggTerms:
		size := a.Size
		if size == 0 {
			size = 10
		}
		o = obj{"terms": obj{"field": a.Field, "size": size, "order": []any{obj{"_count": "desc"}, obj{"_key": "asc"}}}}
	case search.AggHistogram:
		o = obj{"histogram": obj{"field": a.Field, "interval": a.Interval}}
	case search.AggDateHistogram:
		o = obj{"date_histogram": obj{"field": a.Field, "calendar_interval": string(a.Calendar)}}
	case search.AggRange, search.AggDateRange:
		var rs []any
		for _, r := range a.Ranges {
			ro := obj{}
			if r.Key != "" {
				ro["key"] = r.Key
			}
			for k, v := range map[string]string{"from": r.From, "to": r.To} {
				if v == "" {
					continue
				}
				if a.Kind == search.AggRange {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						return nil, fmt.Errorf("%w: range bound %q", search.ErrInvalid, v)
					}
					ro[k] = f
				} else {
					ro[k] = v
				}
			}
			rs = append(rs, ro)
		}
		o = obj{string(a.Kind): obj{"field": a.Field, "ranges": rs}}
	case search.AggMin, search.AggMax, search.AggAvg, search.AggSum, search.AggStats:
		o = obj{string(a.Kind): obj{"field": a.Field}}
	case search.AggCardinality:
		// 40000 is the largest threshold below which counts are exact
		o = obj{"cardinality": obj{"field": a.Field, "precision_threshold": 40000}}
	case search.AggGeohashGrid:
		p := a.Precision
		if p == 0 {
			p = 5
		}
		size := a.Size
		if size == 0 {
			size = 10000
		}
		o = obj{"geohash_grid": obj{"field": a.Field, "precision": p, "size": size}}
	default:
		return nil, fmt.Errorf("%w: aggregation kind %q", search.ErrUnsupported, a.Kind)
	}
	if len(a.Aggs) > 0 {
		sub := obj{}
		for _, s := range a.Aggs {
			b, err := aggBody(s)
			if err != nil {
				return nil, err
			}
			sub[s.Name] = b
		}
		o["aggs"] = sub
	}
	return o, nil
}

// addAggs adds the spec's aggregations to the body's aggs, next to the
// facets' (a name used by both is ErrInvalid).
func addAggs(body obj, aggs []search.Agg) error {
	if len(aggs) == 0 {
		return nil
	}
	all, _ := body["aggs"].(obj)
	if all == nil {
		all = obj{}
	}
	for _, a := range aggs {
		if _, dup := all[a.Name]; dup {
			return fmt.Errorf("%w: aggregation %q has the name of a facet", search.ErrInvalid, a.Name)
		}
		b, err := aggBody(a)
		if err != nil {
			return err
		}
		all[a.Name] = b
	}
	body["aggs"] = all
	return nil
}

type rawBucket struct {
	Key      json.RawMessage `json:"key"`
	KeyStr   *string         `json:"key_as_string"`
	DocCount int64           `json:"doc_count"`
	From     *float64        `json:"from"`
	To       *float64        `json:"to"`
}

type rawAgg struct {
	Buckets json.RawMessage `json:"buckets"`
	Value   *float64        `json:"value"`
	Count   *int64          `json:"count"`
	Min     *float64        `json:"min"`
	Max     *float64        `json:"max"`
	Avg     *float64        `json:"avg"`
	Sum     *float64        `json:"sum"`
}

// parseAggs reads the aggregations of a response into portable results.
func parseAggs(aggs []search.Agg, raw map[string]json.RawMessage) (map[string]*search.AggResult, error) {
	out := make(map[string]*search.AggResult, len(aggs))
	for _, a := range aggs {
		r, ok := raw[a.Name]
		if !ok {
			return nil, fmt.Errorf("opensearch: aggregation %s missing from the response", a.Name)
		}
		res, err := parseAgg(a, r)
		if err != nil {
			return nil, fmt.Errorf("opensearch: aggregation %s: %w", a.Name, err)
		}
		out[a.Name] = res
	}
	return out, nil
}

func parseAgg(a search.Agg, r json.RawMessage) (*search.AggResult, error) {
	var ra rawAgg
	if err := json.Unmarshal(r, &ra); err != nil {
		return nil, err
	}
	switch a.Kind {
	case search.AggStats:
		st := &search.Stats{}
		if ra.Count != nil {
			st.Count = *ra.Count
		}
		for _, p := range []struct {
			dst *float64
			src *float64
		}{{&st.Min, ra.Min}, {&st.Max, ra.Max}, {&st.Avg, ra.Avg}, {&st.Sum, ra.Sum}} {
			if p.src != nil && st.Count > 0 {
				*p.dst = *p.src
			}
		}
		return &search.AggResult{Stats: st}, nil
	case search.AggMin, search.AggMax, search.AggAvg, search.AggSum, search.AggCardinality:
		return &search.AggResult{Value: ra.Value}, nil
	}
	var rbs []json.RawMessage
	if err := json.Unmarshal(ra.Buckets, &rbs); err != nil {
		return nil, fmt.Errorf("buckets: %w", err)
	}
	res := &search.AggResult{Buckets: make([]search.AggBucket, 0, len(rbs))}
	for _, rb := range rbs {
		var b rawBucket
		if err := json.Unmarshal(rb, &b); err != nil {
			return nil, err
		}
		bk := search.AggBucket{Count: b.DocCount}
		var ks string
		var kn float64
		if err := json.Unmarshal(b.Key, &ks); err != nil {
			if err := json.Unmarshal(b.Key, &kn); err != nil {
				return nil, fmt.Errorf("bucket key %s", b.Key)
			}
			bk.Key, bk.Num = search.NumKey(kn), kn
		} else {
			bk.Key = ks
		}
		if b.KeyStr != nil && (a.Kind == search.AggDateHistogram || a.Kind == search.AggTerms) {
			bk.Key = *b.KeyStr
		}
		if a.Kind == search.AggRange || a.Kind == search.AggDateRange {
			bk.From, bk.To = b.From, b.To
		}
		if len(a.Aggs) > 0 {
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(rb, &sub); err != nil {
				return nil, err
			}
			var err error
			if bk.Aggs, err = parseAggs(a.Aggs, sub); err != nil {
				return nil, err
			}
		}
		res.Buckets = append(res.Buckets, bk)
	}
	return res, nil
}
