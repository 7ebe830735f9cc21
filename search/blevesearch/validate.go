package blevesearch

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/repokit/repokit/search"
)

// prepare checks the values of mapped fields the way OpenSearch's mapper
// does (a value of the wrong type rejects the document: mapper_parsing_
// exception) and coerces what OpenSearch coerces (numeric strings into number
// fields, "true"/"false" into boolean fields), since bleve would silently skip
// a mismatched value.
//
// Every mapped path with a value is appended to exists (OpenSearch's exists
// rules: null and [] are no value, "" is one).
func prepare(m map[string]any, prefix string, fields map[string]search.Field, exists *[]string) error {
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		f, mapped := fields[path]
		if !mapped {
			if sub, ok := v.(map[string]any); ok {
				if err := prepare(sub, path, fields, exists); err != nil {
					return err
				}
			}
			if arr, ok := v.([]any); ok {
				for _, e := range arr {
					if sub, ok := e.(map[string]any); ok {
						if err := prepare(sub, path, fields, exists); err != nil {
							return err
						}
					}
				}
			}
			continue
		}
		if f.Type == search.GeoPoint {
			c, err := coerceGeo(v)
			if err != nil {
				return fmt.Errorf("field %s: %v", path, err)
			}
			m[k] = c
			continue
		}
		has := false
		if arr, ok := v.([]any); ok {
			for i, e := range arr {
				c, err := coerce(f, e)
				if err != nil {
					return fmt.Errorf("field %s[%d]: %v", path, i, err)
				}
				arr[i] = c
				has = has || hasValue(f, c)
			}
		} else {
			c, err := coerce(f, v)
			if err != nil {
				return fmt.Errorf("field %s: %v", path, err)
			}
			m[k] = c
			has = hasValue(f, c)
		}
		if has && (len(*exists) == 0 || (*exists)[len(*exists)-1] != path) {
			*exists = append(*exists, path)
		}
	}
	return nil
}

func hasValue(f search.Field, v any) bool {
	// OpenSearch: every non-null value exists, even "" (an empty text
	// value still records the field, with a zero norm)
	return v != nil
}

func coerce(f search.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Type {
	case search.Number:
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			n, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, fmt.Errorf("number field: cannot parse %q", x)
			}
			return n, nil
		}
		return nil, fmt.Errorf("number field: got %T", v)
	case search.Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch x {
			case "true":
				return true, nil
			case "false", "":
				return false, nil
			}
		}
		return nil, fmt.Errorf("boolean field: got %v", v)
	case search.Date:
		// OpenSearch's default format, strict_date_optional_time||
		// epoch_millis: "2012" is indexed as 2012-01-01T00:00:00.000Z
		switch x := v.(type) {
		case string:
			t, err := search.ParseDate(x)
			if err != nil {
				return nil, fmt.Errorf("date field: %v", err)
			}
			return dateValue(t)
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 253402300799999 {
				return nil, fmt.Errorf("date field: %v is not epoch milliseconds", x)
			}
			return dateValue(time.UnixMilli(int64(x)))
		}
		return nil, fmt.Errorf("date field: got %T", v)
	case search.Keyword, search.Text:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
		return nil, fmt.Errorf("%s field: got an object", f.Type)
	}
	return v, nil
}

// dateValue is the value bleve indexes for a date: refused outside the
// years bleve can store (it keeps Unix nanoseconds) rather than indexed
// wrong.
func dateValue(t time.Time) (any, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("date field: %s is outside the years 1678-2261 the embedded engine can index", search.FormatDate(t))
	}
	return search.FormatDate(t), nil
}
