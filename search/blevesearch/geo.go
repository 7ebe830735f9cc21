package blevesearch

import (
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/geo"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/repokit/repokit/search"
)

// compileGeo translates the geo query nodes; ok is false for other nodes.
func compileGeo(q search.Query) (query.Query, bool, error) {
	switch g := q.(type) {
	case search.GeoDistance:
		gq := bleve.NewGeoDistanceQuery(g.Center.Lon, g.Center.Lat, strconv.FormatFloat(g.Meters, 'f', -1, 64)+"m")
		gq.SetField(g.Field)
		return gq, true, nil
	case search.GeoBoundingBox:
		gq := bleve.NewGeoBoundingBoxQuery(g.TopLeft.Lon, g.TopLeft.Lat, g.BottomRight.Lon, g.BottomRight.Lat)
		gq.SetField(g.Field)
		return gq, true, nil
	case search.GeoPolygon:
		pts := make([]geo.Point, len(g.Points))
		for i, p := range g.Points {
			pts[i] = geo.Point{Lon: p.Lon, Lat: p.Lat}
		}
		gq := query.NewGeoBoundingPolygonQuery(pts)
		gq.SetField(g.Field)
		return gq, true, nil
	}
	return nil, false, nil
}

// geoSort replaces the sort of req by one with distance sorts where sf asks
// for them (bleve's string sort syntax has none).
func geoSort(req *bleve.SearchRequest, sf []search.SortField) {
	geoAt := -1
	for i, f := range sf {
		if f.Near != nil {
			geoAt = i
		}
	}
	if geoAt < 0 {
		return
	}
	order := bsearch.ParseSortOrderStrings(sortOrder(sf))
	for i, f := range sf {
		if f.Near != nil {
			gs, err := bsearch.NewSortGeoDistance(f.Field, "m", f.Near.Lon, f.Near.Lat, f.Desc)
			if err == nil {
				order[i] = gs
			}
		}
	}
	req.SortByCustom(order)
}

// coerceGeo checks a geo_point value (one point in any OpenSearch form, or
// an array of them) and returns it as bleve reads it: {"lat","lon"} maps.
func coerceGeo(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		if _, isNum := arr[0].(float64); !isNum {
			out := make([]any, 0, len(arr))
			for _, e := range arr {
				p, err := search.ParsePoint(e)
				if err != nil {
					return nil, err
				}
				out = append(out, map[string]any{"lat": p.Lat, "lon": p.Lon})
			}
			return out, nil
		}
	}
	p, err := search.ParsePoint(v)
	if err != nil {
		return nil, err
	}
	return map[string]any{"lat": p.Lat, "lon": p.Lon}, nil
}
