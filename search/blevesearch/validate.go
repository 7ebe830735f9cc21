package blevesearch

import (
	"fmt"
	"strconv"

	"github.com/repokit/repokit/search"
)

// prepare checks the values of mapped fields the way OpenSearch's mapper
// does (a value of the wrong type rejects the document: mapper_parsing_
// exception) and coerces what OpenSearch coerces (numeric strings into number
// fields, "true"/"false" into boolean fields), since bleve would silently skip
// a mismatched value.
func prepare(m map[string]any, prefix string, fields map[string]search.Field) error {
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		f, mapped := fields[path]
		if !mapped {
			if sub, ok := v.(map[string]any); ok {
				if err := prepare(sub, path, fields); err != nil {
					return err
				}
			}
			if arr, ok := v.([]any); ok {
				for _, e := range arr {
					if sub, ok := e.(map[string]any); ok {
						if err := prepare(sub, path, fields); err != nil {
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
		if arr, ok := v.([]any); ok {
			for i, e := range arr {
				c, err := coerce(f, e)
				if err != nil {
					return fmt.Errorf("field %s[%d]: %v", path, i, err)
				}
				arr[i] = c
			}
			continue
		}
		c, err := coerce(f, v)
		if err != nil {
			return fmt.Errorf("field %s: %v", path, err)
		}
		m[k] = c
	}
	return nil
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
		switch x := v.(type) {
		case string:
			if _, err := search.ParseDate(x); err != nil {
				return nil, fmt.Errorf("date field: %v", err)
			}
			return x, nil
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
