package blevesearch

import (
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
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

// Mapping derives the bleve mapping from an OpenSearch-form definition:
// keyword fields get the keyword analyzer and doc values (facets, sorting),
// text fields the standard analyzer (with term positions for phrase queries
// unless index_options is docs/freqs), dates and numbers their bleve types
// with doc values. Nothing is stored except the source (one stored field) and
// the revision; no _all field; unmapped fields are not indexed.
func Mapping(def search.Definition) (*mapping.IndexMappingImpl, error) {
	fields, err := def.Fields()
	if err != nil {
		return nil, err
	}
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	root := mapping.NewDocumentStaticMapping()
	im.DefaultMapping = root

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

	for _, f := range fields {
		var fm *mapping.FieldMapping
		switch f.Type {
		case search.Text:
			fm = mapping.NewTextFieldMapping()
			fm.Analyzer = standard.Name
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
