package search

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// AggKind is the type of an aggregation; the names are OpenSearch's.
type AggKind string

// Aggregation kinds every driver computes.
const (
	// AggTerms buckets by the distinct values of a keyword, number, date or
	// boolean field (Size buckets, by count desc then key asc).
	AggTerms AggKind = "terms"
	// AggHistogram buckets a number field by fixed Interval
	// (key = floor(v/Interval)*Interval); empty buckets between the first
	// and the last non-empty one are included, as OpenSearch does
	// (min_doc_count 0).
	AggHistogram AggKind = "histogram"
	// AggDateHistogram buckets a date field by Calendar interval (UTC), with
	// the empty buckets in between, like AggHistogram.
	AggDateHistogram AggKind = "date_histogram"
	// AggRange buckets a number field by Ranges (From inclusive, To
	// exclusive). A document may fall in several buckets.
	AggRange AggKind = "range"
	// AggDateRange buckets a date field by Ranges of dates.
	AggDateRange AggKind = "date_range"
	// Metrics over a number or date field (dates as epoch milliseconds).
	AggMin   AggKind = "min"
	AggMax   AggKind = "max"
	AggAvg   AggKind = "avg"
	AggSum   AggKind = "sum"
	AggStats AggKind = "stats"
	// AggCardinality counts distinct values. It is exact on bleve; on
	// OpenSearch it is exact below precision_threshold (3000 by default)
	// and approximate above.
	AggCardinality AggKind = "cardinality"
	// AggGeohashGrid buckets a geo_point field by geohash cells of
	// Precision characters (1–12, default 5).
	AggGeohashGrid AggKind = "geohash_grid"
)

// Calendar is a calendar interval of a date histogram.
type Calendar string

// Calendar intervals (UTC).
const (
	Year    Calendar = "year"
	Quarter Calendar = "quarter"
	Month   Calendar = "month"
	Week    Calendar = "week" // weeks start on Monday, as in OpenSearch
	Day     Calendar = "day"
	Hour    Calendar = "hour"
)

// Agg is one aggregation of a [Spec]. Aggregations are computed over the
// documents matching Spec.Query (not restricted by Spec.PostFilter, as in
// OpenSearch). Bucket aggregations may hold sub-aggregations computed per
// bucket. Build them with the constructors ([TermsAgg], [DateHistogramAgg],
// …) or as a literal.
type Agg struct {
	Name  string
	Kind  AggKind
	Field string
	// Size is the number of buckets of a terms (default 10) or geohash_grid
	// (default 10000) aggregation.
	Size int
	// Interval of a numeric histogram (> 0).
	Interval float64
	// Calendar interval of a date histogram.
	Calendar Calendar
	// Ranges of a range or date_range aggregation.
	Ranges []RangeSpec
	// Precision of a geohash_grid (1–12; 0 = 5).
	Precision int
	// Aggs are sub-aggregations, computed in every bucket.
	Aggs []Agg
}

// RangeSpec is one range of a range aggregation: [From, To), either end
// may be empty (open). Numbers are written as decimal strings, dates in the
// forms [ParseDate] accepts. Key names the bucket (default: OpenSearch's
// "from-to" key, see [AggBucket.Key]).
type RangeSpec struct {
	Key      string
	From, To string
}

// TermsAgg is a terms aggregation.
func TermsAgg(name, field string, size int, sub ...Agg) Agg {
	return Agg{Name: name, Kind: AggTerms, Field: field, Size: size, Aggs: sub}
}

// DateHistogramAgg is a date histogram with a calendar interval.
func DateHistogramAgg(name, field string, c Calendar, sub ...Agg) Agg {
	return Agg{Name: name, Kind: AggDateHistogram, Field: field, Calendar: c, Aggs: sub}
}

// HistogramAgg is a numeric histogram.
func HistogramAgg(name, field string, interval float64, sub ...Agg) Agg {
	return Agg{Name: name, Kind: AggHistogram, Field: field, Interval: interval, Aggs: sub}
}

// RangeAgg is a numeric range aggregation.
func RangeAgg(name, field string, ranges ...RangeSpec) Agg {
	return Agg{Name: name, Kind: AggRange, Field: field, Ranges: ranges}
}

// DateRangeAgg is a date range aggregation.
func DateRangeAgg(name, field string, ranges ...RangeSpec) Agg {
	return Agg{Name: name, Kind: AggDateRange, Field: field, Ranges: ranges}
}

// MetricAgg is a min, max, avg, sum, stats or cardinality aggregation.
func MetricAgg(name string, kind AggKind, field string) Agg {
	return Agg{Name: name, Kind: kind, Field: field}
}

// GeohashGridAgg is a geohash grid aggregation.
func GeohashGridAgg(name, field string, precision int, sub ...Agg) Agg {
	return Agg{Name: name, Kind: AggGeohashGrid, Field: field, Precision: precision, Aggs: sub}
}

// AggResult is the result of one aggregation: Buckets for bucket
// aggregations, Value for min/max/avg/sum/cardinality (nil when there was no
// value: min, max and avg of nothing), Stats for stats.
type AggResult struct {
	Buckets []AggBucket
	Value   *float64
	Stats   *Stats
}

// AggBucket is one bucket.
//
// Key is the bucket's portable key: the value for terms ("true"/"false" for
// booleans, the decimal number for numbers, the date as
// 2006-01-02T15:04:05.000Z for dates), the decimal lower bound for a
// histogram, the date of the bucket start for a date histogram, the range's
// Key (default OpenSearch's "1900.0-2000.0", "*-100.0", or dates
// "2020-01-01T00:00:00.000Z-*") for ranges, the geohash for a grid.
type AggBucket struct {
	Key string
	// Num is the numeric key: the histogram's lower bound, the date
	// histogram's start as epoch milliseconds, the number or epoch ms of a
	// terms key on a number or date field.
	Num float64
	// From and To are the bounds of a range bucket (dates as epoch ms).
	From, To *float64
	Count    int64
	Aggs     map[string]*AggResult
}

// Stats is the result of a stats aggregation. Min, Max and Avg are 0 when
// Count is 0.
type Stats struct {
	Count              int64
	Min, Max, Avg, Sum float64
}

// DateKey formats epoch milliseconds as OpenSearch's default date
// format prints them (2006-01-02T15:04:05.000Z).
func DateKey(ms float64) string {
	return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02T15:04:05.000Z")
}

// NumKey formats a number as bucket keys do.
func NumKey(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// CheckAggs reports ErrInvalid for aggregations that name unknown fields,
// fields of the wrong type, duplicate or empty names, or bad parameters.
// fields are the index's mapped leaf fields.
func CheckAggs(aggs []Agg, fields map[string]Field) error {
	seen := map[string]bool{}
	for _, a := range aggs {
		if a.Name == "" {
			return fmt.Errorf("%w: aggregation without a name", ErrInvalid)
		}
		if seen[a.Name] {
			return fmt.Errorf("%w: two aggregations named %q", ErrInvalid, a.Name)
		}
		seen[a.Name] = true
		f, ok := fields[a.Field]
		if !ok {
			return fmt.Errorf("%w: aggregation %s: field %q is not mapped", ErrInvalid, a.Name, a.Field)
		}
		bad := func(want string) error {
			return fmt.Errorf("%w: aggregation %s (%s) needs %s field, %s is %s", ErrInvalid, a.Name, a.Kind, want, a.Field, f.Type)
		}
		switch a.Kind {
		case AggTerms:
			if f.Type == Text || f.Type == Object || f.Type == GeoPoint {
				return bad("a keyword, number, date or boolean")
			}
			if a.Size < 0 {
				return fmt.Errorf("%w: aggregation %s: negative size", ErrInvalid, a.Name)
			}
		case AggHistogram:
			if f.Type != Number {
				return bad("a number")
			}
			if !(a.Interval > 0) || math.IsInf(a.Interval, 0) {
				return fmt.Errorf("%w: aggregation %s: histogram interval must be > 0", ErrInvalid, a.Name)
			}
		case AggDateHistogram:
			if f.Type != Date {
				return bad("a date")
			}
			if _, err := CalendarFloor(a.Calendar, time.Time{}); err != nil {
				return fmt.Errorf("%w: aggregation %s: %v", ErrInvalid, a.Name, err)
			}
		case AggRange, AggDateRange:
			want := Number
			if a.Kind == AggDateRange {
				want = Date
			}
			if f.Type != want {
				return bad("a " + string(want))
			}
			if len(a.Ranges) == 0 {
				return fmt.Errorf("%w: aggregation %s: no ranges", ErrInvalid, a.Name)
			}
			for _, r := range a.Ranges {
				if _, _, err := r.bounds(a.Kind); err != nil {
					return fmt.Errorf("%w: aggregation %s: %v", ErrInvalid, a.Name, err)
				}
			}
		case AggMin, AggMax, AggAvg, AggSum, AggStats:
			if f.Type != Number && f.Type != Date {
				return bad("a number or date")
			}
		case AggCardinality:
			if f.Type == Text || f.Type == Object || f.Type == GeoPoint {
				return bad("a keyword, number, date or boolean")
			}
		case AggGeohashGrid:
			if f.Type != GeoPoint {
				return bad("a geo_point")
			}
			if a.Precision < 0 || a.Precision > 12 {
				return fmt.Errorf("%w: aggregation %s: geohash precision must be 1..12", ErrInvalid, a.Name)
			}
		default:
			return fmt.Errorf("%w: aggregation %s: unknown kind %q", ErrInvalid, a.Name, a.Kind)
		}
		if len(a.Aggs) > 0 {
			switch a.Kind {
			case AggTerms, AggHistogram, AggDateHistogram, AggRange, AggDateRange, AggGeohashGrid:
			default:
				return fmt.Errorf("%w: aggregation %s: a %s aggregation has no sub-aggregations", ErrInvalid, a.Name, a.Kind)
			}
			if err := CheckAggs(a.Aggs, fields); err != nil {
				return err
			}
		}
	}
	return nil
}

// bounds returns the numeric bounds of r (dates as epoch ms), nil for an
// open end.
func (r RangeSpec) bounds(kind AggKind) (from, to *float64, err error) {
	conv := func(s string) (*float64, error) {
		if s == "" {
			return nil, nil
		}
		if kind == AggDateRange {
			t, err := ParseDate(s)
			if err != nil {
				return nil, err
			}
			v := float64(t.UnixMilli())
			return &v, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) {
			return nil, fmt.Errorf("range bound %q is not a number", s)
		}
		return &v, nil
	}
	if from, err = conv(r.From); err != nil {
		return nil, nil, err
	}
	if to, err = conv(r.To); err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// RangeKey is the key OpenSearch gives a range bucket without an explicit
// key: "from-to" with "*" for an open end, numbers printed as Java doubles
// (1900.0), dates in the default date format.
func RangeKey(kind AggKind, from, to *float64) string {
	f := func(p *float64) string {
		if p == nil {
			return "*"
		}
		if kind == AggDateRange {
			return DateKey(*p)
		}
		return javaDouble(*p)
	}
	return f(from) + "-" + f(to)
}

// javaDouble prints a float64 as Java's Double.toString does for ordinary
// magnitudes (1900.0, 0.5).
func javaDouble(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e7 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// CalendarFloor returns the start of the calendar interval holding t (UTC).
func CalendarFloor(c Calendar, t time.Time) (time.Time, error) {
	t = t.UTC()
	switch c {
	case Year:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC), nil
	case Quarter:
		return time.Date(t.Year(), (t.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC), nil
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	case Week:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		wd := (int(d.Weekday()) + 6) % 7 // Monday = 0
		return d.AddDate(0, 0, -wd), nil
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case Hour:
		return t.Truncate(time.Hour), nil
	}
	return time.Time{}, fmt.Errorf("calendar interval %q (use year, quarter, month, week, day or hour)", c)
}

// CalendarNext returns the start of the interval after the one starting at t.
func CalendarNext(c Calendar, t time.Time) time.Time {
	switch c {
	case Year:
		return t.AddDate(1, 0, 0)
	case Quarter:
		return t.AddDate(0, 3, 0)
	case Month:
		return t.AddDate(0, 1, 0)
	case Week:
		return t.AddDate(0, 0, 7)
	case Day:
		return t.AddDate(0, 0, 1)
	}
	return t.Add(time.Hour)
}
