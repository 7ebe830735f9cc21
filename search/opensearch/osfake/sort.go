package osfake

// sortClauses normalizes the forms a sort takes: the body's "sort" as a
// field name, an object or a list of both, and the URL parameter
// sort=field[:order],... (which wins, as in OpenSearch). A bare field name
// sorts ascending, except _score (descending).
func sortClauses(body any, param string) ([]map[string]any, *httpError) {
	one := func(v any) (map[string]any, *httpError) {
		switch x := v.(type) {
		case string:
			order := "asc"
			if x == "_score" {
				order = "desc"
			}
			return map[string]any{x: order}, nil
		case map[string]any:
			return x, nil
		}
		return nil, errf(400, "parsing_exception", "malformed sort format, expected a field name or an object")
	}
	var out []map[string]any
	if param != "" {
		for _, part := range splitComma(param) {
			field, order := part, ""
			for i := len(part) - 1; i >= 0; i-- {
				if part[i] == ':' {
					field, order = part[:i], part[i+1:]
					break
				}
			}
			m, _ := one(field)
			if order != "" {
				m[field] = order
			}
			out = append(out, m)
		}
		return out, nil
	}
	switch x := body.(type) {
	case nil:
		return nil, nil
	case []any:
		for _, e := range x {
			m, err := one(e)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	m, err := one(body)
	if err != nil {
		return nil, err
	}
	return []map[string]any{m}, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
