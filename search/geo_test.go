package search_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/repokit/repokit/search"
)

func TestGeohash(t *testing.T) {
	// reference values from geohash.org / Lucene
	p := search.Point{Lat: 57.64911, Lon: 10.40744}
	if g := search.Geohash(p, 11); g != "u4pruydqqvj" {
		t.Errorf("Geohash = %s, want u4pruydqqvj", g)
	}
	if g := search.Geohash(search.Point{Lat: 46.2044, Lon: 6.1432}, 5); g != "u0hqg" {
		t.Errorf("Geneva geohash = %s, want u0hqg", g)
	}
	c, err := search.DecodeGeohash("u4pruydqqvj")
	if err != nil || math.Abs(c.Lat-p.Lat) > 1e-5 || math.Abs(c.Lon-p.Lon) > 1e-5 {
		t.Errorf("DecodeGeohash = %v, %v", c, err)
	}
	if _, err := search.DecodeGeohash("u4a"); err == nil {
		t.Errorf("'a' is not a geohash character")
	}
}

func TestDistanceAndParse(t *testing.T) {
	paris, berlin := search.Point{Lat: 48.8566, Lon: 2.3522}, search.Point{Lat: 52.52, Lon: 13.405}
	if d := search.Distance(paris, berlin); math.Abs(d-877_500) > 2000 {
		t.Errorf("Paris–Berlin %v m, want about 877.5 km", d)
	}
	for s, want := range map[string]float64{"12km": 12000, "50mi": 80467.2, "300m": 300, "1.5": 1.5, "2nmi": 3704} {
		if got, err := search.ParseDistance(s); err != nil || math.Abs(got-want) > 1e-6 {
			t.Errorf("ParseDistance(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "km", "-3m", "abc"} {
		if _, err := search.ParseDistance(s); err == nil {
			t.Errorf("ParseDistance(%q) accepted", s)
		}
	}
	for _, src := range []string{`{"lat": 46.2, "lon": 6.15}`, `"46.2,6.15"`, `[6.15, 46.2]`} {
		var v any
		_ = json.Unmarshal([]byte(src), &v)
		p, err := search.ParsePoint(v)
		if err != nil || math.Abs(p.Lat-46.2) > 1e-9 || math.Abs(p.Lon-6.15) > 1e-9 {
			t.Errorf("ParsePoint(%s) = %v, %v", src, p, err)
		}
	}
	for _, src := range []string{`{"lat": 91, "lon": 0}`, `"x,y"`, `[1]`, `true`, `"u4a"`} {
		var v any
		_ = json.Unmarshal([]byte(src), &v)
		if _, err := search.ParsePoint(v); err == nil {
			t.Errorf("ParsePoint(%s) accepted", src)
		}
	}
	tri := []search.Point{{Lat: 0, Lon: 0}, {Lat: 10, Lon: 0}, {Lat: 0, Lon: 10}}
	if !search.InPolygon(search.Point{Lat: 2, Lon: 2}, tri) || search.InPolygon(search.Point{Lat: 8, Lon: 8}, tri) {
		t.Errorf("InPolygon wrong")
	}
	// a box across the antimeridian
	if !search.InBox(search.Point{Lat: 0, Lon: 179}, search.Point{Lat: 10, Lon: 170}, search.Point{Lat: -10, Lon: -170}) {
		t.Errorf("InBox across the antimeridian")
	}
}
