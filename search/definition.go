package search

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Definition is an index definition in OpenSearch form: the JSON bodies of
// "mappings" and "settings" as one would PUT them to /<index>. Drivers other
// than OpenSearch derive their own mapping from it (see [Definition.Fields]).
//
//	{"mappings": {"properties": {"title": {"type": "text"}, "type": {"type": "keyword"}}}}
type Definition struct {
	Mappings json.RawMessage `json:"mappings,omitempty"`
	Settings json.RawMessage `json:"settings,omitempty"`
}

// FieldType is the portable type of a mapped field.
type FieldType string

// Field types understood by every driver. OpenSearch numeric types
// (long, integer, short, byte, double, float, half_float, scaled_float) map to
// Number.
const (
	Text    FieldType = "text"
	Keyword FieldType = "keyword"
	Date    FieldType = "date"
	Number  FieldType = "number"
	Boolean FieldType = "boolean"
	Object  FieldType = "object"
)

// Field is one mapped leaf field of a definition.
type Field struct {
	Path string    // dotted path, e.g. "metadata.title"
	Type FieldType // portable type
	// Positions reports whether phrase queries are supported (text fields,
	// unless index_options is "docs" or "freqs"). Indexing without
	// positions is much cheaper on long text (descriptions, abstracts);
	// both engines then refuse a phrase or proximity query of more than one
	// word on the field with ErrBadQuery, as OpenSearch does.
	Positions bool
	// Raw is the field's OpenSearch mapping as written.
	Raw json.RawMessage
	// Analyzer is the analyzer of a text field ("standard" when not set),
	// with what it does: Lowercase (every analyzer but a custom one without
	// the lowercase filter) and Fold (the asciifolding filter). Custom
	// analyzers come from settings.analysis.analyzer.
	Analyzer        string
	Lowercase, Fold bool
	// UnknownAnalyzer is set when Analyzer is neither "standard" nor a
	// custom analyzer of the standard tokenizer with lowercase/asciifolding
	// filters (OpenSearch runs it; the embedded engine refuses it).
	UnknownAnalyzer bool
}

type propMapping struct {
	Type         string                     `json:"type"`
	Properties   map[string]json.RawMessage `json:"properties"`
	IndexOptions string                     `json:"index_options"`
	Analyzer     string                     `json:"analyzer"`
}

// customAnalyzer is an entry of settings.analysis.analyzer.
type customAnalyzer struct {
	Type       string   `json:"type"`
	Tokenizer  string   `json:"tokenizer"`
	Filter     []string `json:"filter"`
	CharFilter []string `json:"char_filter"`
}

// analyzers reads settings.analysis.analyzer (also under "index").
func (d Definition) analyzers() (map[string]customAnalyzer, error) {
	if len(d.Settings) == 0 {
		return nil, nil
	}
	type analysis struct {
		Analyzer map[string]customAnalyzer `json:"analyzer"`
	}
	var st struct {
		Analysis *analysis `json:"analysis"`
		Index    *struct {
			Analysis *analysis `json:"analysis"`
		} `json:"index"`
	}
	if err := json.Unmarshal(d.Settings, &st); err != nil {
		return nil, fmt.Errorf("%w: settings: %v", ErrInvalid, err)
	}
	out := map[string]customAnalyzer{}
	for _, a := range []*analysis{st.Analysis, func() *analysis {
		if st.Index != nil {
			return st.Index.Analysis
		}
		return nil
	}()} {
		if a != nil {
			for n, c := range a.Analyzer {
				out[n] = c
			}
		}
	}
	return out, nil
}

// describeAnalyzer fills the analyzer facts of a text field.
func describeAnalyzer(f *Field, name string, custom map[string]customAnalyzer) {
	if name == "" {
		name = "standard"
	}
	f.Analyzer, f.Lowercase = name, true
	if c, ok := custom[name]; ok {
		f.Lowercase = false
		if (c.Type != "" && c.Type != "custom") || c.Tokenizer != "standard" || len(c.CharFilter) > 0 {
			f.UnknownAnalyzer, f.Lowercase = true, true
			return
		}
		for _, flt := range c.Filter {
			switch flt {
			case "lowercase":
				f.Lowercase = true
			case "asciifolding":
				f.Fold = true
			default:
				f.UnknownAnalyzer = true
			}
		}
		return
	}
	if name != "standard" {
		f.UnknownAnalyzer = true
	}
}

// ParseDefinition decodes {"mappings": ..., "settings": ...}.
func ParseDefinition(b []byte) (Definition, error) {
	var d Definition
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%w: definition: %v", ErrInvalid, err)
	}
	_, err := d.Fields()
	return d, err
}

// Fields returns the mapped leaf fields sorted by path.
func (d Definition) Fields() ([]Field, error) {
	if len(d.Mappings) == 0 {
		return nil, nil
	}
	var root propMapping
	if err := json.Unmarshal(d.Mappings, &root); err != nil {
		return nil, fmt.Errorf("%w: mappings: %v", ErrInvalid, err)
	}
	var out []Field
	if err := walkProps("", root.Properties, &out); err != nil {
		return nil, err
	}
	custom, err := d.analyzers()
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Type == Text {
			var p propMapping
			_ = json.Unmarshal(out[i].Raw, &p)
			describeAnalyzer(&out[i], p.Analyzer, custom)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func walkProps(prefix string, props map[string]json.RawMessage, out *[]Field) error {
	for name, raw := range props {
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		var p propMapping
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("%w: mapping of %s: %v", ErrInvalid, path, err)
		}
		if p.Properties != nil && (p.Type == "" || p.Type == "object" || p.Type == "nested") {
			if err := walkProps(path, p.Properties, out); err != nil {
				return err
			}
			continue
		}
		t, err := portableType(p.Type)
		if err != nil {
			return fmt.Errorf("%w: field %s: %v", ErrInvalid, path, err)
		}
		switch p.IndexOptions {
		case "", "docs", "freqs", "positions", "offsets":
		default:
			return fmt.Errorf("%w: field %s: index_options %q (want docs, freqs, positions or offsets)", ErrInvalid, path, p.IndexOptions)
		}
		*out = append(*out, Field{Path: path, Type: t, Raw: raw,
			Positions: t == Text && p.IndexOptions != "docs" && p.IndexOptions != "freqs"})
	}
	return nil
}

func portableType(t string) (FieldType, error) {
	switch t {
	case "text", "match_only_text":
		return Text, nil
	case "keyword", "constant_keyword", "wildcard":
		return Keyword, nil
	case "date", "date_nanos":
		return Date, nil
	case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long":
		return Number, nil
	case "boolean":
		return Boolean, nil
	case "object", "nested", "flat_object":
		return Object, nil
	case "geo_point":
		return GeoPoint, nil
	}
	return "", fmt.Errorf("unsupported field type %q", t)
}

// FieldMap returns the leaf fields by path.
func (d Definition) FieldMap() (map[string]Field, error) {
	fs, err := d.Fields()
	if err != nil {
		return nil, err
	}
	m := make(map[string]Field, len(fs))
	for _, f := range fs {
		m[f.Path] = f
	}
	return m, nil
}

// CheckAdditive reports ErrInvalid unless next keeps every field of d with
// the same type and index_options positions (fields may only be added, as
// in OpenSearch).
func (d Definition) CheckAdditive(next Definition) error {
	old, err := d.FieldMap()
	if err != nil {
		return err
	}
	nf, err := next.FieldMap()
	if err != nil {
		return err
	}
	for p, f := range old {
		g, ok := nf[p]
		if !ok {
			return fmt.Errorf("%w: mapping update removes field %s", ErrInvalid, p)
		}
		if g.Type != f.Type {
			return fmt.Errorf("%w: mapping update changes type of %s from %s to %s (reindex instead)", ErrInvalid, p, f.Type, g.Type)
		}
		if g.Positions != f.Positions {
			// documents already indexed keep what they were indexed with:
			// phrases would silently miss them (OpenSearch refuses too)
			return fmt.Errorf("%w: mapping update changes index_options of %s (reindex instead)", ErrInvalid, p)
		}
	}
	return nil
}
