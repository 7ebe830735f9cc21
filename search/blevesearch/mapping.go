package blevesearch

import (
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/repokit/repokit/search"
)

// Names of the internal fields every document carries.
const (
	// SourceField stores the document's JSON source once (stored, not
	// indexed).
	SourceField = "_source"
	// RevisionField holds the revision (external version), stored and
	// indexed with doc values.
	RevisionField = "_rev"
	// TombstoneField marks the tombstone document a delete leaves (holding
	// the delete's revision); searches exclude them.
	TombstoneField = "_deleted"
)

// Analyzers of text fields, matching OpenSearch's: "standard" is the
// Unicode (UAX#29) word tokenizer (bleve's, with a fast ASCII path, see
// wordsTokenizerName) with lowercasing and, unlike bleve's
// standard analyzer, no stop-word removal and no stemming; custom analyzers
// of the standard tokenizer with the lowercase and/or asciifolding filters
// map to the variants below.
const (
	AnalyzerStandard     = "os_standard"
	AnalyzerStandardFold = "os_standard_fold"
	analyzerCase         = "os_case"
	analyzerCaseFold     = "os_case_fold"
)

func analyzerFor(f search.Field) (string, error) {
	if f.UnknownAnalyzer {
		return "", fmt.Errorf("%w: field %s: analyzer %q is not supported by the bleve driver (use standard, or a custom analyzer of the standard tokenizer with the lowercase and asciifolding filters)", search.ErrInvalid, f.Path, f.Analyzer)
	}
	switch {
	case f.Lowercase && f.Fold:
		return AnalyzerStandardFold, nil
	case f.Lowercase:
		return AnalyzerStandard, nil
	case f.Fold:
		return analyzerCaseFold, nil
	}
	return analyzerCase, nil
}

func addAnalyzers(im *mapping.IndexMappingImpl) error {
	for _, a := range []struct {
		name        string
		lower, fold bool
	}{{AnalyzerStandard, true, false}, {AnalyzerStandardFold, true, true}, {analyzerCase, false, false}, {analyzerCaseFold, false, true}} {
		cfg := map[string]any{"type": custom.Name, "tokenizer": wordsTokenizerName}
		if a.lower {
			cfg["token_filters"] = []any{lowercase.Name}
		}
		if a.fold {
			cfg["char_filters"] = []any{asciifolding.Name}
		}
		if err := im.AddCustomAnalyzer(a.name, cfg); err != nil {
			return fmt.Errorf("blevesearch: analyzer %s: %w", a.name, err)
		}
	}
	return nil
}

// Mapping derives the bleve mapping from an OpenSearch-form definition:
// keyword fields get the keyword analyzer and doc values (facets, sorting),
// text fields an analyzer behaving as OpenSearch's (standard: no stop words,
// no stemming; asciifolding on request), with term positions for phrase
// queries unless index_options is docs/freqs, dates and numbers their bleve
// types with doc values. Nothing is stored except the source (one stored
// field) and the revision; no _all field; unmapped fields are not indexed.
// ExistsField lists the mapped fields each document has a value in.
func Mapping(def search.Definition) (*mapping.IndexMappingImpl, error) {
	fields, err := def.Fields()
	if err != nil {
		return nil, err
	}
	im := mapping.NewIndexMapping()
	if err := addAnalyzers(im); err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = AnalyzerStandard
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	root := mapping.NewDocumentStaticMapping()
	im.DefaultMapping = root
	// no _all composite field: every field is excluded from it, and an
	// empty composite still costs a pass over every field of every document
	root.AddSubDocumentMapping("_all", mapping.NewDocumentDisabledMapping())

	src := mapping.NewTextFieldMapping()
	src.Index = false
	src.Store = true
	src.IncludeTermVectors = false
	src.IncludeInAll = false
	src.DocValues = false
	root.AddFieldMappingsAt(SourceField, src)

	rev := mapping.NewNumericFieldMapping()
	rev.Store = true
	rev.Index = true
	rev.IncludeInAll = false
	rev.DocValues = true
	root.AddFieldMappingsAt(RevisionField, rev)

	tomb := mapping.NewBooleanFieldMapping()
	tomb.Store = false
	tomb.Index = true
	tomb.IncludeInAll = false
	tomb.DocValues = false
	root.AddFieldMappingsAt(TombstoneField, tomb)
	addTombstoneTime(root) // tombstones.go

	ex := mapping.NewKeywordFieldMapping()
	ex.Analyzer = keyword.Name
	ex.Store = false
	ex.IncludeTermVectors = false
	ex.IncludeInAll = false
	ex.DocValues = false
	root.AddFieldMappingsAt(ExistsField, ex)

	for _, f := range fields {
		var fm *mapping.FieldMapping
		switch f.Type {
		case search.Text:
			fm = mapping.NewTextFieldMapping()
			if fm.Analyzer, err = analyzerFor(f); err != nil {
				return nil, err
			}
			fm.IncludeTermVectors = f.Positions
			fm.DocValues = false
		case search.Keyword:
			fm = mapping.NewKeywordFieldMapping()
			fm.Analyzer = keyword.Name
			fm.IncludeTermVectors = false
			fm.DocValues = true
		case search.Date:
			fm = mapping.NewDateTimeFieldMapping()
			fm.DocValues = true
		case search.Number:
			fm = mapping.NewNumericFieldMapping()
			fm.DocValues = true
		case search.Boolean:
			fm = mapping.NewBooleanFieldMapping()
			fm.DocValues = true
		case search.GeoPoint:
			fm = mapping.NewGeoPointFieldMapping()
			fm.DocValues = true
		default:
			continue
		}
		fm.Store = false
		fm.IncludeInAll = false
		parts := strings.Split(f.Path, ".")
		dm := root
		for _, p := range parts[:len(parts)-1] {
			sub, ok := dm.Properties[p]
			if !ok {
				sub = mapping.NewDocumentStaticMapping()
				dm.AddSubDocumentMapping(p, sub)
			}
			dm = sub
		}
		dm.AddFieldMappingsAt(parts[len(parts)-1], fm)
	}
	return im, nil
}
