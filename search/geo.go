package search

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// GeoPoint is the type of a geo_point field (OpenSearch's geo_point:
// values {"lat": 52.1, "lon": 4.3}, "52.1,4.3", [4.3, 52.1] (lon first, as
// GeoJSON) or a geohash string).
const GeoPoint FieldType = "geo_point"

// Point is a latitude/longitude pair in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Valid reports whether the point lies within [-90,90]×[-180,180].
func (p Point) Valid() bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180 && !math.IsNaN(p.Lat) && !math.IsNaN(p.Lon)
}

// GeoDistance matches documents with a point of Field within Meters (arc
// distance) of Center.
type GeoDistance struct {
	Field  string
	Center Point
	Meters float64
}

// GeoBoundingBox matches documents with a point of Field inside the box
// (edges included).
type GeoBoundingBox struct {
	Field       string
	TopLeft     Point
	BottomRight Point
}

// GeoPolygon matches documents with a point of Field inside the polygon
// (at least 3 points; OpenSearch's geo_polygon query).
type GeoPolygon struct {
	Field  string
	Points []Point
}

func (GeoDistance) isQuery()    {}
func (GeoBoundingBox) isQuery() {}
func (GeoPolygon) isQuery()     {}

// EarthRadius is the mean earth radius in meters OpenSearch uses for arc
// distances.
const EarthRadius = 6371008.7714

// Distance returns the arc (haversine) distance between a and b in meters.
func Distance(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// InBox reports whether p lies in the box (edges included; a box whose left
// edge is east of its right edge crosses the antimeridian).
func InBox(p, topLeft, bottomRight Point) bool {
	if p.Lat > topLeft.Lat || p.Lat < bottomRight.Lat {
		return false
	}
	if topLeft.Lon <= bottomRight.Lon {
		return p.Lon >= topLeft.Lon && p.Lon <= bottomRight.Lon
	}
	return p.Lon >= topLeft.Lon || p.Lon <= bottomRight.Lon
}

// InPolygon reports whether p lies inside the polygon (even-odd rule).
func InPolygon(p Point, poly []Point) bool {
	in := false
	n := len(poly)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) &&
			p.Lon < (b.Lon-a.Lon)*(p.Lat-a.Lat)/(b.Lat-a.Lat)+a.Lon {
			in = !in
		}
	}
	return in
}

// ParseDistance reads an OpenSearch distance ("12km", "50mi", "300m",
// "1.5", meaning meters) and returns meters.
func ParseDistance(s string) (float64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		m      float64
	}{{"nmi", 1852}, {"NM", 1852}, {"km", 1000}, {"kilometers", 1000}, {"mi", 1609.344}, {"miles", 1609.344}, {"yd", 0.9144}, {"yards", 0.9144},
		{"ft", 0.3048}, {"feet", 0.3048}, {"in", 0.0254}, {"inch", 0.0254}, {"cm", 0.01}, {"centimeters", 0.01},
		{"mm", 0.001}, {"millimeters", 0.001}, {"m", 1}, {"meters", 1}}
	mult := 1.0
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%w: distance %q", ErrInvalid, s)
	}
	return v * mult, nil
}

// ParsePoint reads a geo_point value in any of OpenSearch's forms: an
// object {"lat","lon"}, a "lat,lon" string, a [lon, lat] array or a
// geohash string. v is a decoded JSON value (map[string]any, string, []any
// of float64 or json.Number).
func ParsePoint(v any) (Point, error) {
	num := func(x any) (float64, bool) {
		switch n := x.(type) {
		case float64:
			return n, true
		case json.Number:
			f, err := n.Float64()
			return f, err == nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
			return f, err == nil
		}
		return 0, false
	}
	var p Point
	switch x := v.(type) {
	case map[string]any:
		lat, ok1 := num(x["lat"])
		lon, ok2 := num(x["lon"])
		if !ok1 || !ok2 {
			return p, fmt.Errorf("%w: geo_point object needs numeric lat and lon", ErrInvalid)
		}
		p = Point{Lat: lat, Lon: lon}
	case []any:
		if len(x) < 2 || len(x) > 3 {
			return p, fmt.Errorf("%w: geo_point array must be [lon, lat]", ErrInvalid)
		}
		lon, ok1 := num(x[0])
		lat, ok2 := num(x[1])
		if !ok1 || !ok2 {
			return p, fmt.Errorf("%w: geo_point array must hold numbers", ErrInvalid)
		}
		p = Point{Lat: lat, Lon: lon}
	case string:
		if a, b, ok := strings.Cut(x, ","); ok {
			lat, ok1 := num(a)
			lon, ok2 := num(b)
			if !ok1 || !ok2 {
				return p, fmt.Errorf("%w: geo_point %q is not \"lat,lon\"", ErrInvalid, x)
			}
			p = Point{Lat: lat, Lon: lon}
		} else {
			var err error
			if p, err = DecodeGeohash(x); err != nil {
				return p, err
			}
		}
	default:
		return p, fmt.Errorf("%w: geo_point of type %T", ErrInvalid, v)
	}
	if !p.Valid() {
		return p, fmt.Errorf("%w: geo_point (%v, %v) out of range", ErrInvalid, p.Lat, p.Lon)
	}
	return p, nil
}

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// Geohash returns the geohash of p with precision characters (1–12).
func Geohash(p Point, precision int) string {
	latR := [2]float64{-90, 90}
	lonR := [2]float64{-180, 180}
	out := make([]byte, 0, precision)
	bit, ch, even := 0, 0, true
	for len(out) < precision {
		if even {
			mid := (lonR[0] + lonR[1]) / 2
			if p.Lon >= mid {
				ch |= 1 << (4 - bit)
				lonR[0] = mid
			} else {
				lonR[1] = mid
			}
		} else {
			mid := (latR[0] + latR[1]) / 2
			if p.Lat >= mid {
				ch |= 1 << (4 - bit)
				latR[0] = mid
			} else {
				latR[1] = mid
			}
		}
		even = !even
		if bit < 4 {
			bit++
		} else {
			out = append(out, geohashAlphabet[ch])
			bit, ch = 0, 0
		}
	}
	return string(out)
}

// DecodeGeohash returns the centre of a geohash cell.
func DecodeGeohash(h string) (Point, error) {
	latR := [2]float64{-90, 90}
	lonR := [2]float64{-180, 180}
	if h == "" || len(h) > 12 {
		return Point{}, fmt.Errorf("%w: geohash %q", ErrInvalid, h)
	}
	even := true
	for i := 0; i < len(h); i++ {
		c := strings.IndexByte(geohashAlphabet, h[i])
		if c < 0 {
			return Point{}, fmt.Errorf("%w: geohash %q", ErrInvalid, h)
		}
		for b := 4; b >= 0; b-- {
			r := &latR
			if even {
				r = &lonR
			}
			mid := (r[0] + r[1]) / 2
			if c&(1<<b) != 0 {
				r[0] = mid
			} else {
				r[1] = mid
			}
			even = !even
		}
	}
	return Point{Lat: (latR[0] + latR[1]) / 2, Lon: (lonR[0] + lonR[1]) / 2}, nil
}

// checkGeo reports ErrInvalid for geo queries on fields that are not
// geo_point or with invalid points, and geo sorts on other fields.
func checkGeoQuery(q Query, fields map[string]Field) error {
	field, pts := "", []Point(nil)
	switch g := q.(type) {
	case GeoDistance:
		field, pts = g.Field, []Point{g.Center}
		if g.Meters < 0 || math.IsNaN(g.Meters) {
			return fmt.Errorf("%w: geo_distance: negative distance", ErrInvalid)
		}
	case GeoBoundingBox:
		field, pts = g.Field, []Point{g.TopLeft, g.BottomRight}
		if g.TopLeft.Lat < g.BottomRight.Lat {
			return fmt.Errorf("%w: geo_bounding_box: top is below bottom", ErrInvalid)
		}
	case GeoPolygon:
		field, pts = g.Field, g.Points
		if len(pts) < 3 {
			return fmt.Errorf("%w: geo_polygon needs at least 3 points", ErrInvalid)
		}
	case Bool:
		for _, part := range [][]Query{g.Must, g.Should, g.MustNot, g.Filter} {
			for _, c := range part {
				if err := checkGeoQuery(c, fields); err != nil {
					return err
				}
			}
		}
		return nil
	default:
		return nil
	}
	if f, ok := fields[field]; !ok || f.Type != GeoPoint {
		return fmt.Errorf("%w: geo query on %q, which is not a geo_point field", ErrInvalid, field)
	}
	for _, p := range pts {
		if !p.Valid() {
			return fmt.Errorf("%w: point (%v, %v) out of range", ErrInvalid, p.Lat, p.Lon)
		}
	}
	return nil
}

// CheckSpec reports ErrInvalid when a spec's aggregations, geo queries or
// geo sorts do not fit the mapped fields. [Index.Query] calls it.
func CheckSpec(s *Spec, fields map[string]Field) error {
	if err := CheckAggs(s.Aggs, fields); err != nil {
		return err
	}
	for _, q := range []Query{s.Query, s.PostFilter} {
		if err := checkGeoQuery(q, fields); err != nil {
			return err
		}
	}
	for _, sf := range s.Sort {
		if sf.Near == nil {
			continue
		}
		if f, ok := fields[sf.Field]; !ok || f.Type != GeoPoint {
			return fmt.Errorf("%w: distance sort on %q, which is not a geo_point field", ErrInvalid, sf.Field)
		}
		if !sf.Near.Valid() {
			return fmt.Errorf("%w: distance sort point out of range", ErrInvalid)
		}
	}
	return nil
}
