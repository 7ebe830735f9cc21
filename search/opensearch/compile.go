package opensearch

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/repokit/repokit/search"
)

// obj is a JSON object under construction.
type obj = map[string]any

// Compile translates a portable query into the OpenSearch query DSL
// (exported for golden tests).
func Compile(q search.Query) (any, error) {
	switch q := q.(type) {
	case nil, search.MatchAll:
		return obj{"match_all": obj{}}, nil
	case search.MatchNone:
		return obj{"match_none": obj{}}, nil
	case search.Term:
		return obj{"term": obj{q.Field: obj{"value": q.Value}}}, nil
	case search.Terms:
		return obj{"terms": obj{q.Field: q.Values}}, nil
	case search.Match:
		if q.Field != "" || len(q.Fields) == 1 {
			f := q.Field
			if f == "" {
				f = q.Fields[0]
			}
			return obj{"match": obj{f: obj{"query": q.Text, "operator": "and"}}}, nil
		}
		return obj{"multi_match": obj{"query": q.Text, "fields": q.Fields, "type": "best_fields", "operator": "and"}}, nil
	case search.Phrase:
		if q.Field != "" || len(q.Fields) == 1 {
			f := q.Field
			if f == "" {
				f = q.Fields[0]
			}
			p := obj{"query": q.Text}
			if q.Slop > 0 {
				p["slop"] = q.Slop
			}
			return obj{"match_phrase": obj{f: p}}, nil
		}
		mm := obj{"query": q.Text, "fields": q.Fields, "type": "phrase"}
		if q.Slop > 0 {
			mm["slop"] = q.Slop
		}
		return obj{"multi_match": mm}, nil
	case search.Exists:
		return obj{"exists": obj{"field": q.Field}}, nil
	case search.IDs:
		return obj{"ids": obj{"values": q.Values}}, nil
	case search.Fuzzy:
		if q.Fuzziness <= 0 {
			return obj{"term": obj{q.Field: obj{"value": q.Value}}}, nil
		}
		return obj{"fuzzy": obj{q.Field: obj{"value": q.Value, "fuzziness": q.Fuzziness,
			"prefix_length": 0, "max_expansions": 50, "transpositions": true}}}, nil
	case search.Boost:
		inner, err := Compile(q.Query)
		if err != nil {
			return nil, err
		}
		return obj{"bool": obj{"must": []any{inner}, "boost": q.Factor}}, nil
	case search.Prefix:
		return obj{"prefix": obj{q.Field: obj{"value": q.Value}}}, nil
	case search.Wildcard:
		return obj{"wildcard": obj{q.Field: obj{"value": q.Pattern}}}, nil
	case search.Range:
		if q.From == "" && q.To == "" {
			return obj{"match_all": obj{}}, nil
		}
		r := obj{}
		bound := func(v string) (any, error) {
			if q.Kind == search.Number {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: range bound %q", search.ErrInvalid, v)
				}
				return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
			}
			return v, nil
		}
		if q.From != "" {
			b, err := bound(q.From)
			if err != nil {
				return nil, err
			}
			if q.IncludeFrom {
				r["gte"] = b
			} else {
				r["gt"] = b
			}
		}
		if q.To != "" {
			b, err := bound(q.To)
			if err != nil {
				return nil, err
			}
			if q.IncludeTo {
				r["lte"] = b
			} else {
				r["lt"] = b
			}
		}
		return obj{"range": obj{q.Field: r}}, nil
	case search.Bool:
		b := obj{}
		for _, part := range []struct {
			key string
			qs  []search.Query
		}{{"must", q.Must}, {"filter", q.Filter}, {"should", q.Should}, {"must_not", q.MustNot}} {
			if len(part.qs) == 0 {
				continue
			}
			var cs []any
			for _, c := range part.qs {
				cq, err := Compile(c)
				if err != nil {
					return nil, err
				}
				cs = append(cs, cq)
			}
			b[part.key] = cs
		}
		if len(q.Should) > 0 && len(q.Must) == 0 && len(q.Filter) == 0 {
			b["minimum_should_match"] = 1
		}
		return obj{"bool": b}, nil
	}
	if gq, ok, err := compileGeo(q); ok {
		return gq, err
	}
	return nil, fmt.Errorf("%w: query node %T", search.ErrUnsupported, q)
}

// SearchBody renders a spec as the body of POST /<index>/_search (exported
// for golden tests). Each facet is a terms aggregation wrapped in a filter
// aggregation holding the other facets' selections; the post_filter holds all
// of them and restricts the hits only.
func SearchBody(s *search.Spec) (map[string]any, error) {
	q, err := Compile(s.Query)
	if err != nil {
		return nil, err
	}
	body := obj{
		"query":   q,
		"size":    s.Size,
		"version": true,
	}
	if s.TrackTotal {
		body["track_total_hits"] = true
	}
	if len(s.After) == 0 && s.From > 0 {
		body["from"] = s.From
	}
	if s.PostFilter != nil {
		pf, err := Compile(s.PostFilter)
		if err != nil {
			return nil, err
		}
		body["post_filter"] = pf
	}
	var sorts []any
	for _, f := range s.Sort {
		order := "asc"
		if f.Desc {
			order = "desc"
		}
		if f.Near != nil {
			sorts = append(sorts, geoSortClause(f, order))
			continue
		}
		switch f.Field {
		case "_score", "_id":
			sorts = append(sorts, obj{f.Field: obj{"order": order}})
		default:
			sorts = append(sorts, obj{f.Field: obj{"order": order, "missing": "_last"}})
		}
	}
	if len(sorts) > 0 { // "sort": null is not a valid body (the spec wants a string, object or array)
		body["sort"] = sorts
	}
	for _, f := range s.Sort {
		if f.Field == "_score" {
			body["track_scores"] = true
		}
	}
	if len(s.After) > 0 {
		body["search_after"] = s.After
	}
	if s.PIT != "" {
		body["pit"] = obj{"id": s.PIT, "keep_alive": s.KeepAlive}
	}
	if len(s.Facets) > 0 {
		aggs := obj{}
		for _, f := range s.Facets {
			terms := termsAgg(f)
			if f.Filter != nil {
				fq, err := Compile(f.Filter)
				if err != nil {
					return nil, err
				}
				aggs[f.Name] = obj{"filter": fq, "aggs": obj{f.Name: terms}}
			} else {
				aggs[f.Name] = terms
			}
		}
		body["aggs"] = aggs
	}
	if err := addAggs(body, s.Aggs); err != nil {
		return nil, err
	}
	return body, nil
}

func termsAgg(f search.FacetSpec) obj {
	a := obj{"terms": obj{"field": f.Field, "size": f.Size, "order": []any{obj{"_count": "desc"}, obj{"_key": "asc"}}}}
	if f.Sub != nil {
		a["aggs"] = obj{"sub": termsAgg(*f.Sub)}
	}
	return a
}
