package osfake

import (
	"fmt"
	"strings"

	"github.com/repokit/repokit/search"
)

// docPoints returns the geo points of a geo_point field of a document.
func docPoints(d *scored, field string) []search.Point {
	return pointsOf(d.d.parsed, d.index, field)
}

func pointsOf(m map[string]any, ix *index, field string) []search.Point {
	if ix.fields[field] != "geo_point" {
		return nil
	}
	var raw []any
	// values() flattens arrays, which would split [lon, lat] pairs: read the
	// field's value whole first
	for _, v := range rawValues(m, field) {
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			if _, isNum := toFloat(arr[0]); isNum {
				if _, isStr := arr[0].(string); !isStr {
					raw = append(raw, arr)
					continue
				}
			}
			raw = append(raw, arr...)
			continue
		}
		raw = append(raw, v)
	}
	var out []search.Point
	for _, v := range raw {
		if p, err := search.ParsePoint(v); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// rawValues returns the values at a dotted path without flattening the
// leaf arrays.
func rawValues(m map[string]any, path string) []any {
	var out []any
	var walk func(v any, parts []string)
	walk = func(v any, parts []string) {
		if len(parts) == 0 {
			if v != nil {
				out = append(out, v)
			}
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, parts)
			}
		case map[string]any:
			if next, ok := x[parts[0]]; ok {
				walk(next, parts[1:])
			}
		}
	}
	walk(m, strings.Split(path, "."))
	return out
}

// geoQueryPoint reads a point parameter of a geo query.
func geoQueryPoint(v any) (search.Point, error) {
	m, ok := v.(map[string]any)
	if ok {
		if _, hasLat := m["lat"]; hasLat {
			return search.ParsePoint(normNums(m))
		}
	}
	return search.ParsePoint(normNums(v))
}

// normNums turns json.Number values into float64 for search.ParsePoint.
func normNums(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := make(map[string]any, len(x))
		for k, e := range x {
			o[k] = normNums(e)
		}
		return o
	case []any:
		o := make([]any, len(x))
		for i, e := range x {
			o[i] = normNums(e)
		}
		return o
	}
	if f, ok := toFloat(v); ok {
		if _, isStr := v.(string); !isStr {
			return f
		}
	}
	return v
}

var geoParams = map[string]bool{"distance": true, "distance_type": true, "validation_method": true, "ignore_unmapped": true,
	"_name": true, "boost": true, "type": true}

// geoField returns the field and its spec of a geo query body (the one key
// that is not a parameter).
func geoField(body map[string]any) (string, any, error) {
	field, spec := "", any(nil)
	for k, v := range body {
		if geoParams[k] {
			continue
		}
		if field != "" {
			return "", nil, fmt.Errorf("[geo] query doesn't support multiple fields, found [%s] and [%s]", field, k)
		}
		field, spec = k, v
	}
	if field == "" {
		return "", nil, fmt.Errorf("geo query needs a field")
	}
	return field, spec, nil
}

// evalGeo evaluates geo_distance, geo_bounding_box and geo_polygon; ok is
// false for other query kinds.
func evalGeo(kind string, body any, d *doc, ix *index) (matched bool, ok bool, err error) {
	m, isObj := body.(map[string]any)
	switch kind {
	case "geo_distance", "geo_bounding_box", "geo_polygon":
		if !isObj {
			return false, true, fmt.Errorf("[%s] query must be an object", kind)
		}
	default:
		return false, false, nil
	}
	field, spec, err := geoField(m)
	if err != nil {
		return false, true, err
	}
	typ := ix.fields[field]
	if typ != "geo_point" {
		if typ == "" && m["ignore_unmapped"] == true {
			return false, true, nil
		}
		if typ == "" {
			return false, true, fmt.Errorf("failed to find geo field [%s]", field)
		}
		return false, true, fmt.Errorf("field [%s] is not a geo_point field", field)
	}
	pts := pointsOf(d.parsed, ix, field)
	switch kind {
	case "geo_distance":
		c, err := geoQueryPoint(spec)
		if err != nil {
			return false, true, err
		}
		dist, err := search.ParseDistance(toString(m["distance"]))
		if err != nil {
			return false, true, fmt.Errorf("failed to parse [distance]: %v", err)
		}
		for _, p := range pts {
			if search.Distance(c, p) <= dist {
				return true, true, nil
			}
		}
	case "geo_bounding_box":
		sm, _ := spec.(map[string]any)
		var tl, br search.Point
		if v, ok := sm["top_left"]; ok {
			if tl, err = geoQueryPoint(v); err != nil {
				return false, true, err
			}
			if br, err = geoQueryPoint(sm["bottom_right"]); err != nil {
				return false, true, err
			}
		} else if v, ok := sm["top_right"]; ok {
			tr, err := geoQueryPoint(v)
			if err != nil {
				return false, true, err
			}
			bl, err := geoQueryPoint(sm["bottom_left"])
			if err != nil {
				return false, true, err
			}
			tl, br = search.Point{Lat: tr.Lat, Lon: bl.Lon}, search.Point{Lat: bl.Lat, Lon: tr.Lon}
		} else {
			t, ok1 := toFloat(sm["top"])
			l, ok2 := toFloat(sm["left"])
			b, ok3 := toFloat(sm["bottom"])
			r, ok4 := toFloat(sm["right"])
			if !ok1 || !ok2 || !ok3 || !ok4 {
				return false, true, fmt.Errorf("failed to parse bounding box")
			}
			tl, br = search.Point{Lat: t, Lon: l}, search.Point{Lat: b, Lon: r}
		}
		if tl.Lat < br.Lat {
			return false, true, fmt.Errorf("top is below bottom corner: %v vs. %v", tl.Lat, br.Lat)
		}
		for _, p := range pts {
			if search.InBox(p, tl, br) {
				return true, true, nil
			}
		}
	case "geo_polygon":
		sm, _ := spec.(map[string]any)
		raw, _ := sm["points"].([]any)
		if len(raw) < 3 {
			return false, true, fmt.Errorf("too few points defined for geo_polygon query")
		}
		poly := make([]search.Point, len(raw))
		for i, r := range raw {
			if poly[i], err = geoQueryPoint(r); err != nil {
				return false, true, err
			}
		}
		for _, p := range pts {
			if search.InPolygon(p, poly) {
				return true, true, nil
			}
		}
	}
	return false, true, nil
}

var distanceUnits = map[string]float64{"m": 1, "km": 1000, "mi": 1609.344, "yd": 0.9144, "ft": 0.3048, "in": 0.0254,
	"cm": 0.01, "mm": 0.001, "nmi": 1852}

// geoSortKey is the _geo_distance sort value of a document: the distance
// of its closest (asc) or farthest (desc) point in the requested unit;
// nil (sorted last) without a point.
func geoSortKey(d *doc, ix *index, spec map[string]any, desc bool) (any, error) {
	unit := 1.0
	if u, ok := spec["unit"]; ok {
		f, ok := distanceUnits[toString(u)]
		if !ok {
			return nil, fmt.Errorf("unknown distance unit [%v]", u)
		}
		unit = f
	}
	field, pspec := "", any(nil)
	for k, v := range spec {
		switch k {
		case "order", "unit", "distance_type", "mode", "ignore_unmapped", "validation_method", "nested":
			continue
		}
		field, pspec = k, v
	}
	c, err := geoQueryPoint(pspec)
	if err != nil {
		if arr, ok := pspec.([]any); ok && len(arr) == 1 {
			c, err = geoQueryPoint(arr[0])
		}
		if err != nil {
			return nil, err
		}
	}
	var best any
	for _, p := range pointsOf(d.parsed, ix, field) {
		dist := search.Distance(c, p) / unit
		if best == nil || (desc && dist > best.(float64)) || (!desc && dist < best.(float64)) {
			best = dist
		}
	}
	return best, nil // nil: no point, sorted last
}
