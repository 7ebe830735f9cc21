package search

import (
	"math"
	"sort"
	"time"
)

// AggDoc holds the values of one matching document for the fields
// aggregations read, as drivers that compute aggregations themselves collect
// them: numbers, dates (epoch milliseconds) and booleans (1/0) in Nums,
// keywords in Strs, geo points in Geos.
type AggDoc struct {
	Nums map[string][]float64
	Strs map[string][]string
	Geos map[string][]Point
}

// AggFields returns the distinct fields aggs (and their sub-aggregations)
// read.
func AggFields(aggs []Agg) []string {
	seen := map[string]bool{}
	var out []string
	var walk func([]Agg)
	walk = func(as []Agg) {
		for _, a := range as {
			if !seen[a.Field] {
				seen[a.Field] = true
				out = append(out, a.Field)
			}
			walk(a.Aggs)
		}
	}
	walk(aggs)
	sort.Strings(out)
	return out
}

// EvalAggs computes aggregations exactly over docs, with OpenSearch's
// semantics (see [AggKind]). It is what drivers without native
// aggregations use; aggs must have passed [CheckAggs] against fields.
func EvalAggs(aggs []Agg, fields map[string]Field, docs []*AggDoc) map[string]*AggResult {
	out := make(map[string]*AggResult, len(aggs))
	for _, a := range aggs {
		out[a.Name] = evalAgg(a, fields, docs)
	}
	return out
}

type aggGroup struct {
	key  string
	num  float64
	docs []*AggDoc
}

func (g *aggGroup) bucket(a Agg, fields map[string]Field) AggBucket {
	b := AggBucket{Key: g.key, Num: g.num, Count: int64(len(g.docs))}
	if len(a.Aggs) > 0 {
		b.Aggs = EvalAggs(a.Aggs, fields, g.docs)
	}
	return b
}

func evalAgg(a Agg, fields map[string]Field, docs []*AggDoc) *AggResult {
	switch a.Kind {
	case AggTerms:
		return evalTerms(a, fields, docs)
	case AggHistogram, AggDateHistogram:
		return evalHistogram(a, fields, docs)
	case AggRange, AggDateRange:
		res := &AggResult{Buckets: []AggBucket{}}
		type rg struct {
			key      string
			from, to *float64
		}
		var rs []rg
		for _, r := range a.Ranges {
			from, to, _ := r.bounds(a.Kind)
			k := r.Key
			if k == "" {
				k = RangeKey(a.Kind, from, to)
			}
			rs = append(rs, rg{k, from, to})
		}
		sortRanges(len(rs), func(i int) (*float64, *float64) { return rs[i].from, rs[i].to }, func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		for _, r := range rs {
			g := &aggGroup{key: r.key}
			for _, d := range docs {
				for _, v := range d.Nums[a.Field] {
					if (r.from == nil || v >= *r.from) && (r.to == nil || v < *r.to) {
						g.docs = append(g.docs, d)
						break
					}
				}
			}
			b := g.bucket(a, fields)
			b.From, b.To = r.from, r.to
			res.Buckets = append(res.Buckets, b)
		}
		return res
	case AggMin, AggMax, AggAvg, AggSum, AggStats:
		var st Stats
		for _, d := range docs {
			for _, v := range d.Nums[a.Field] {
				if st.Count == 0 || v < st.Min {
					st.Min = v
				}
				if st.Count == 0 || v > st.Max {
					st.Max = v
				}
				st.Sum += v
				st.Count++
			}
		}
		if st.Count > 0 {
			st.Avg = st.Sum / float64(st.Count)
		}
		res := &AggResult{}
		val := func(v float64) *float64 { return &v }
		switch a.Kind {
		case AggStats:
			res.Stats = &st
		case AggSum:
			res.Value = val(st.Sum)
		case AggMin:
			if st.Count > 0 {
				res.Value = val(st.Min)
			}
		case AggMax:
			if st.Count > 0 {
				res.Value = val(st.Max)
			}
		case AggAvg:
			if st.Count > 0 {
				res.Value = val(st.Avg)
			}
		}
		return res
	case AggCardinality:
		seenS := map[string]bool{}
		seenN := map[float64]bool{}
		for _, d := range docs {
			for _, v := range d.Strs[a.Field] {
				seenS[v] = true
			}
			for _, v := range d.Nums[a.Field] {
				seenN[v] = true
			}
		}
		n := float64(len(seenS) + len(seenN))
		return &AggResult{Value: &n}
	case AggGeohashGrid:
		prec := a.Precision
		if prec == 0 {
			prec = 5
		}
		groups := map[string]*aggGroup{}
		for _, d := range docs {
			seen := map[string]bool{}
			for _, p := range d.Geos[a.Field] {
				h := Geohash(p, prec)
				if seen[h] {
					continue
				}
				seen[h] = true
				g := groups[h]
				if g == nil {
					g = &aggGroup{key: h}
					groups[h] = g
				}
				g.docs = append(g.docs, d)
			}
		}
		size := a.Size
		if size == 0 {
			size = 10000
		}
		return topGroups(a, fields, groups, size, false)
	}
	return &AggResult{}
}

func evalTerms(a Agg, fields map[string]Field, docs []*AggDoc) *AggResult {
	f := fields[a.Field]
	groups := map[string]*aggGroup{}
	numeric := false
	for _, d := range docs {
		if vs, ok := d.Strs[a.Field]; ok {
			seen := map[string]bool{}
			for _, v := range vs {
				if seen[v] {
					continue
				}
				seen[v] = true
				g := groups[v]
				if g == nil {
					g = &aggGroup{key: v}
					groups[v] = g
				}
				g.docs = append(g.docs, d)
			}
		}
		if vs, ok := d.Nums[a.Field]; ok {
			numeric = true
			seen := map[float64]bool{}
			for _, v := range vs {
				if seen[v] {
					continue
				}
				seen[v] = true
				var k string
				switch f.Type {
				case Date:
					k = DateKey(v)
				case Boolean:
					k = "false"
					if v != 0 {
						k = "true"
					}
				default:
					k = NumKey(v)
				}
				g := groups[k]
				if g == nil {
					g = &aggGroup{key: k, num: v}
					groups[k] = g
				}
				g.docs = append(g.docs, d)
			}
		}
	}
	size := a.Size
	if size == 0 {
		size = 10
	}
	return topGroups(a, fields, groups, size, numeric)
}

// topGroups orders groups by count desc then key asc (numerically for
// numeric keys) and keeps size of them.
func topGroups(a Agg, fields map[string]Field, groups map[string]*aggGroup, size int, numeric bool) *AggResult {
	gs := make([]*aggGroup, 0, len(groups))
	for _, g := range groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if len(gs[i].docs) != len(gs[j].docs) {
			return len(gs[i].docs) > len(gs[j].docs)
		}
		if numeric {
			return gs[i].num < gs[j].num
		}
		return gs[i].key < gs[j].key
	})
	if len(gs) > size {
		gs = gs[:size]
	}
	res := &AggResult{Buckets: make([]AggBucket, 0, len(gs))}
	for _, g := range gs {
		res.Buckets = append(res.Buckets, g.bucket(a, fields))
	}
	return res
}

func evalHistogram(a Agg, fields map[string]Field, docs []*AggDoc) *AggResult {
	keyOf := func(v float64) float64 {
		if a.Kind == AggHistogram {
			return math.Floor(v/a.Interval) * a.Interval
		}
		t, _ := CalendarFloor(a.Calendar, time.UnixMilli(int64(v)))
		return float64(t.UnixMilli())
	}
	groups := map[float64]*aggGroup{}
	for _, d := range docs {
		seen := map[float64]bool{}
		for _, v := range d.Nums[a.Field] {
			k := keyOf(v)
			if seen[k] {
				continue
			}
			seen[k] = true
			g := groups[k]
			if g == nil {
				g = &aggGroup{num: k}
				groups[k] = g
			}
			g.docs = append(g.docs, d)
		}
	}
	res := &AggResult{Buckets: []AggBucket{}}
	if len(groups) == 0 {
		return res
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for k := range groups {
		lo, hi = math.Min(lo, k), math.Max(hi, k)
	}
	// every bucket from the first to the last, empty ones included
	for k, i := lo, 0; k <= hi; i++ {
		g := groups[k]
		if g == nil {
			g = &aggGroup{num: k}
		}
		if a.Kind == AggHistogram {
			g.key = NumKey(k)
		} else {
			g.key = DateKey(k)
		}
		res.Buckets = append(res.Buckets, g.bucket(a, fields))
		if a.Kind == AggHistogram {
			k = math.Floor((lo+float64(i+1)*a.Interval)/a.Interval) * a.Interval
		} else {
			k = float64(CalendarNext(a.Calendar, time.UnixMilli(int64(k)).UTC()).UnixMilli())
		}
	}
	return res
}

// sortRanges orders ranges by from (open first) then to (open last), as
// OpenSearch's range aggregation does.
func sortRanges(n int, get func(int) (*float64, *float64), swap func(i, j int)) {
	less := func(i, j int) bool {
		fi, ti := get(i)
		fj, tj := get(j)
		a, b := math.Inf(-1), math.Inf(-1)
		if fi != nil {
			a = *fi
		}
		if fj != nil {
			b = *fj
		}
		if a != b {
			return a < b
		}
		a, b = math.Inf(1), math.Inf(1)
		if ti != nil {
			a = *ti
		}
		if tj != nil {
			b = *tj
		}
		return a < b
	}
	// insertion sort: ranges are few
	for i := 1; i < n; i++ {
		for j := i; j > 0 && less(j, j-1); j-- {
			swap(j, j-1)
		}
	}
}
