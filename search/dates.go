package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dates follow OpenSearch's default date format,
// strict_date_optional_time||epoch_millis:
//
//	yyyy  yyyy-MM  yyyy-MM-dd  yyyy-MM-ddTHH  ...THH:mm  ...THH:mm:ss  ...THH:mm:ss.SSS
//
// with an optional zone (Z, +hh:mm, +hhmm; UTC without one) after a time,
// or a number of milliseconds since the epoch. Missing components of an
// indexed value are the start of the period ("2012" is indexed as
// 2012-01-01T00:00:00Z). Values have millisecond precision, as OpenSearch
// date fields.

// DateLayout is how dates are written in portable Range bounds.
const DateLayout = "2006-01-02T15:04:05.000Z07:00"

// ParseDate parses a date in OpenSearch's default date format, filling
// missing components with the start of the period, in UTC.
func ParseDate(v string) (time.Time, error) {
	return parseDateRound(v, false)
}

// parseDateRound parses v; roundUp fills missing components the way
// OpenSearch does for the upper end of a range (gt, lte): month and day 01,
// 23:59:59.999 for a missing time part — so an inclusive upper bound "2016"
// reaches the end of 2016-01-01.
func parseDateRound(v string, roundUp bool) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("invalid date %q (use yyyy, yyyy-MM, yyyy-MM-dd, yyyy-MM-ddTHH:mm:ss[.SSS][Z|±hh:mm] or epoch milliseconds)", v)
	}
	if len(v) > 4 && isDigits(strings.TrimPrefix(v, "-")) {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < -62135596800000 || ms > 253402300799999 {
			return bad()
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	s := v
	num := func(n int, min, max int) (int, bool) {
		if len(s) < n || !isDigits(s[:n]) {
			return 0, false
		}
		x, _ := strconv.Atoi(s[:n])
		s = s[n:]
		return x, x >= min && x <= max
	}
	year, ok := num(4, 0, 9999)
	if !ok {
		return bad()
	}
	month, day, hour, min, sec, nsec := 1, 1, 0, 0, 0, 0
	if roundUp {
		hour, min, sec, nsec = 23, 59, 59, 999_000_000
	}
	loc := time.UTC
	step := 0 // components read after the year
	if strings.HasPrefix(s, "-") {
		s = s[1:]
		if month, ok = num(2, 1, 12); !ok {
			return bad()
		}
		step = 1
		if strings.HasPrefix(s, "-") {
			s = s[1:]
			if day, ok = num(2, 1, 31); !ok {
				return bad()
			}
			step = 2
			if strings.HasPrefix(s, "T") {
				s = s[1:]
				if hour, ok = num(2, 0, 23); !ok {
					return bad()
				}
				if roundUp {
					min, sec, nsec = 59, 59, 999_000_000
				}
				if strings.HasPrefix(s, ":") {
					s = s[1:]
					if min, ok = num(2, 0, 59); !ok {
						return bad()
					}
					if roundUp {
						sec, nsec = 59, 999_000_000
					}
					if strings.HasPrefix(s, ":") {
						s = s[1:]
						if sec, ok = num(2, 0, 59); !ok {
							return bad()
						}
						if roundUp {
							nsec = 999_000_000
						}
						if strings.HasPrefix(s, ".") || strings.HasPrefix(s, ",") {
							s = s[1:]
							n := 0
							for n < len(s) && s[n] >= '0' && s[n] <= '9' {
								n++
							}
							if n == 0 || n > 9 {
								return bad()
							}
							frac := s[:n] + strings.Repeat("0", 9-n)
							nsec, _ = strconv.Atoi(frac)
							nsec -= nsec % 1_000_000 // millisecond precision
							s = s[n:]
						}
					}
				}
				step = 3
			}
		}
	}
	if s != "" {
		if step < 3 {
			return bad()
		}
		switch {
		case s == "Z":
		case len(s) >= 5 && (s[0] == '+' || s[0] == '-'):
			z := strings.Replace(s[1:], ":", "", 1)
			if len(z) != 4 || !isDigits(z) {
				return bad()
			}
			h, _ := strconv.Atoi(z[:2])
			m, _ := strconv.Atoi(z[2:])
			if h > 18 || m > 59 {
				return bad()
			}
			off := h*3600 + m*60
			if s[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return bad()
		}
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc)
	if t.Day() != day { // 2021-02-30
		return bad()
	}
	return t.UTC(), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ResolveDate resolves a date or date-math expression the way OpenSearch
// does for a range bound: "now", or a date followed by "||", then any of
// +N<unit>, -N<unit> and /<unit> (units y M w d h H m s). roundUp is true
// for the bounds gt and lte: missing date components and /unit rounding then
// go to the last millisecond of the period (2014-11-18||/M → 2014-11-30T
// 23:59:59.999 for lte, 2014-11-01 for gte), so that gt excludes and lte
// includes the whole period.
func ResolveDate(v string, roundUp bool, now time.Time) (time.Time, error) {
	var t time.Time
	var math string
	switch {
	case strings.HasPrefix(v, "now"):
		t, math = now.UTC().Truncate(time.Millisecond), v[3:]
	default:
		anchor, rest, hasMath := strings.Cut(v, "||")
		var err error
		if t, err = parseDateRound(anchor, roundUp); err != nil {
			return t, err
		}
		if !hasMath {
			return t, nil
		}
		math = rest
	}
	for math != "" {
		op := math[0]
		math = math[1:]
		switch op {
		case '+', '-':
			n := 0
			for n < len(math) && math[n] >= '0' && math[n] <= '9' {
				n++
			}
			amount := 1
			if n > 0 {
				var err error
				if amount, err = strconv.Atoi(math[:n]); err != nil || amount > 100000 {
					return t, fmt.Errorf("invalid date math %q", v)
				}
			}
			math = math[n:]
			if math == "" {
				return t, fmt.Errorf("invalid date math %q: missing unit", v)
			}
			if op == '-' {
				amount = -amount
			}
			var err error
			if t, err = addUnit(t, math[0], amount); err != nil {
				return t, fmt.Errorf("invalid date math %q: %v", v, err)
			}
			math = math[1:]
		case '/':
			if math == "" {
				return t, fmt.Errorf("invalid date math %q: missing rounding unit", v)
			}
			start, err := roundDown(t, math[0])
			if err != nil {
				return t, fmt.Errorf("invalid date math %q: %v", v, err)
			}
			t = start
			if roundUp {
				next, _ := addUnit(start, math[0], 1)
				t = next.Add(-time.Millisecond)
			}
			math = math[1:]
		default:
			return t, fmt.Errorf("invalid date math %q: unexpected %q", v, op)
		}
	}
	if t.Year() < 0 || t.Year() > 9999 {
		return t, fmt.Errorf("date %q out of range", v)
	}
	return t, nil
}

func addUnit(t time.Time, unit byte, n int) (time.Time, error) {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0), nil
	case 'M':
		return t.AddDate(0, n, 0), nil
	case 'w':
		return t.AddDate(0, 0, 7*n), nil
	case 'd':
		return t.AddDate(0, 0, n), nil
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour), nil
	case 'm':
		return t.Add(time.Duration(n) * time.Minute), nil
	case 's':
		return t.Add(time.Duration(n) * time.Second), nil
	}
	return t, fmt.Errorf("unknown unit %q (y M w d h H m s)", unit)
}

func roundDown(t time.Time, unit byte) (time.Time, error) {
	y, mo, d := t.Date()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), nil
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), nil
	case 'w': // ISO weeks start on Monday
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(y, mo, d-wd, 0, 0, 0, 0, time.UTC), nil
	case 'd':
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), nil
	case 'h', 'H':
		return t.Truncate(time.Hour), nil
	case 'm':
		return t.Truncate(time.Minute), nil
	case 's':
		return t.Truncate(time.Second), nil
	}
	return t, fmt.Errorf("unknown unit %q (y M w d h H m s)", unit)
}

// FormatDate writes t as a portable Range bound (UTC, milliseconds).
func FormatDate(t time.Time) string { return t.UTC().Format(DateLayout) }
