package opensearch

import (
	"strconv"

	"github.com/repokit/repokit/search"
)

func latLon(p search.Point) obj { return obj{"lat": p.Lat, "lon": p.Lon} }

// compileGeo renders the geo query nodes; ok is false for other nodes.
func compileGeo(q search.Query) (any, bool, error) {
	switch g := q.(type) {
	case search.GeoDistance:
		return obj{"geo_distance": obj{
			"distance":      strconv.FormatFloat(g.Meters, 'f', -1, 64) + "m",
			"distance_type": "arc",
			g.Field:         latLon(g.Center),
		}}, true, nil
	case search.GeoBoundingBox:
		return obj{"geo_bounding_box": obj{g.Field: obj{
			"top_left":     latLon(g.TopLeft),
			"bottom_right": latLon(g.BottomRight),
		}}}, true, nil
	case search.GeoPolygon:
		pts := make([]any, len(g.Points))
		for i, p := range g.Points {
			pts[i] = latLon(p)
		}
		return obj{"geo_polygon": obj{g.Field: obj{"points": pts}}}, true, nil
	}
	return nil, false, nil
}

// geoSortClause is the _geo_distance sort of a SortField with Near: arc
// distance in meters.
func geoSortClause(f search.SortField, order string) obj {
	return obj{"_geo_distance": obj{
		f.Field:         latLon(*f.Near),
		"order":         order,
		"unit":          "m",
		"distance_type": "arc",
	}}
}
